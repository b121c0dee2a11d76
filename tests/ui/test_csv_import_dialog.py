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


async def test_with_several_engines_none_is_chosen_for_rows_without_one(user: User) -> None:
    # QA pass 4, finding 3: the dialog pre-selected the engine whose name sorts first, so rows without
    # an engine went to it unasked (the New tenant form makes you choose when there are several).
    from nicegui import app

    from engine.services import engines
    from engine.validation import EngineCreate
    engines.create_engine(app.state.db, app.state.secrets, EngineCreate(
        name='A Staging', base_url='http://staging.example.com', api_key='k', api_secret='s'), actor='tests')
    await open_list(user, '/tenants', role='support')
    user.find('Import CSV').click()
    (select,) = user.find(marker='import-engine').elements
    assert select.value is None
