"""The tenants list at scale: a page of rows is data drawn by one row template (not a slotted Quasar
component per cell, which took the browser most of a second for 100 rows), and the pager shows a few
page numbers with the first and the last, however many pages there are."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from test_tenants_page import make_tenant, open_list, table

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_the_pager_shows_a_few_page_numbers_however_many_pages(user: User) -> None:
    for number in range(1, 27):
        make_tenant(f'Tenant {number:02}')
    await open_list(user, '/tenants?page=14&size=25', role='manager')  # past the end: the last page

    (pager,) = user.find(marker='tenants-pager').elements
    assert (pager.min, pager.max, pager.value) == (1, 2, 2)
    # Quasar draws at most `max-pages` numbers (ellipses for the rest), the first and last among them.
    assert 5 <= int(pager.props['max-pages']) <= 9
    assert pager.props.get('boundary-numbers') and pager.props.get('direction-links')


async def test_a_row_is_one_template_over_data(user: User) -> None:
    make_tenant('Only Shop')
    await open_list(user, '/tenants', role='support')

    tenants = table(user)
    assert [slot for slot in tenants.slots if slot.startswith('body')] == ['body']
    row = tenants.slots['body'].template
    for cell in ('props.row.name', 'props.row.status', 'props.row.last_run_outcome', 'props.row.last_error',
                 'props.row.engine', 'props.row.stores', 'props.row.updated', 'props.selected', 'Provision'):
        assert cell in row, cell
    assert row.count('<td') == len(tenants.columns) + 1  # one cell per column, and the row's checkbox
