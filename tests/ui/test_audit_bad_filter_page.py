"""A filter the audit page cannot apply shows only why (QA pass 7, finding 10): no "No events match"
nor an empty pager beneath the error, and the inputs keep what was typed, to be corrected."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import audit

pytestmark = pytest.mark.nicegui_main_file('main.py')


def value_of(user: User, marker: str) -> str:
    (element,) = user.find(marker=marker).elements
    return element.value


async def test_a_bad_correlation_id_shows_only_the_error_and_stays_typed(user: User) -> None:
    await sign_in(user, 'admin', next_path='/audit')
    total = audit.list_events(app.state.db).total
    await user.should_see(f'1–{total} of {total}')
    typed = 'x' * 65

    user.find(marker='audit-correlation').type(typed).trigger('keydown.enter')

    await user.should_see('correlation_id: must be at most 64 characters')
    await user.should_not_see('No events match.')
    await user.should_not_see(marker='audit-range')
    await user.should_not_see(marker='audit-pager')
    assert value_of(user, 'audit-correlation') == typed

    user.find(marker='audit-correlation').clear().type('x' * 64).trigger('keydown.enter')  # corrected
    await user.should_see('No events match.')
    await user.should_see('0 of 0')
    await user.should_not_see('correlation_id: must be at most 64 characters')


async def test_an_unknown_tenant_in_the_url_shows_only_the_error_and_stays_in_its_input(user: User) -> None:
    await sign_in(user, 'admin', next_path='/audit?tenant=abc&actor=admin')

    await user.should_see("No tenant is named 'abc' (and it is no tenant id).")
    await user.should_not_see('No events match.')
    await user.should_not_see(marker='audit-range')
    assert (value_of(user, 'audit-tenant'), value_of(user, 'audit-actor')) == ('abc', 'admin')

    user.find(marker='audit-tenant').clear()
    user.find(marker='audit-filter').click()
    admins = audit.list_events(app.state.db, actor='admin').total
    await user.should_see(f'1–{admins} of {admins}')
    await user.should_not_see("No tenant is named 'abc'")
