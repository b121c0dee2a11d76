"""The Import CSV dialog names the file it loaded (the uploader's byte counter is gone) and writes
every message about the file as a sentence."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User
from test_tenants_page import CSV, open_list, upload

from dashboard.components.csv_import import size_text
from engine.services import tenant_import

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_the_loaded_file_is_named_with_its_size(user: User) -> None:
    await open_list(user, '/tenants', role='support')
    user.find('Import CSV').click()
    await user.should_see('No file loaded yet.')

    await upload(user, CSV.encode(), name='spring-tenants.csv')

    await user.should_see(f'Loaded: spring-tenants.csv ({len(CSV.encode())} bytes)')
    (uploader,) = user.find(ui.upload).elements
    header = uploader.slots['header'].template or ''
    assert 'CSV file: click + or drop it here' in header and 'pickFiles' in header


async def test_a_file_with_too_many_rows_gets_a_sentence(user: User) -> None:
    await open_list(user, '/tenants', role='support')
    user.find('Import CSV').click()
    rows = ''.join(f'Shop {n},US,USD,ops{n}@example.com\n' for n in range(tenant_import.MAX_ROWS + 1))

    await upload(user, (tenant_import.HEADER + '\n' + rows).encode())

    await user.should_see(f'The file has more than {tenant_import.MAX_ROWS:,} rows')
    await user.should_see(f'{tenant_import.MAX_ROWS:,} rows. You see a preview first')


@pytest.mark.parametrize(('size', 'text'), [(1, '1 byte'), (999, '999 bytes'), (12_345, '12.3 kB'),
                                            (1_048_576, '1.0 MB')])
def test_size_text(size, text) -> None:
    assert size_text(size) == text
