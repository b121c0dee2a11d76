"""The tenants list puts each view the user picks in the browser history: Back steps through pages
and filters instead of leaving the list; a phone keeps the search button inside its field."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User
from test_tenants_page import make_tenant, names, open_list
from ui_helpers import sign_in

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def turn_to(user: User, page: int) -> None:
    (pager,) = user.find(marker='tenants-pager').elements
    pager.set_value(page)
    await user.should_see(f'{(page - 1) * 25 + 1}–{min(page * 25, 60)} of 60 tenants')


async def test_back_and_forward_step_through_pages_and_filters(user: User) -> None:
    for number in range(1, 61):
        make_tenant(f'Tenant {number:02}')
    await open_list(user, '/tenants', role='manager')

    await turn_to(user, 2)
    await turn_to(user, 3)
    user.find(marker='tenants-status').click()
    user.find('FAILED').click()
    await user.should_see('0 of 0 tenants')

    with user:
        ui.navigate.back()
    await user.should_see('51–60 of 60 tenants')  # page 3 again, every status
    assert names(user) == [f'Tenant {n:02}' for n in range(10, 0, -1)]
    assert user.back_history[-1] == '/tenants?page=3'

    with user:
        ui.navigate.forward()
    await user.should_see('0 of 0 tenants')
    assert user.back_history[-1] == '/tenants?status=FAILED'

    for expected in ('51–60', '26–50', '1–25'):
        with user:
            ui.navigate.back()
        await user.should_see(f'{expected} of 60 tenants')


async def test_a_page_past_the_end_replaces_the_url_instead_of_adding_a_step(user: User) -> None:
    make_tenant('Only Shop')
    await sign_in(user, 'manager')  # first: the sign-in's own hop (/login/finish) is a history entry of the simulation
    await open_list(user, '/tenants?page=9')

    assert names(user) == ['Only Shop']
    assert user.back_history[-1] == '/tenants?page=9'  # no extra history entry was opened


async def test_the_search_button_sits_inside_the_search_field(user: User) -> None:
    await open_list(user, '/tenants', role='manager')

    (search,) = user.find(marker='tenants-search').elements
    (button,) = user.find(marker='tenants-search-button').elements
    assert button.parent_slot is not None and button.parent_slot.parent is search
    assert button.parent_slot.name == 'append'
    assert 'max-w-full' in search.classes
