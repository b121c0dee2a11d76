"""The audit page writes datetimes inside details as it writes times elsewhere, and a teardown's
hand-over of a shared admin user reads the right way round, while the API keeps what was stored."""

from __future__ import annotations

import re

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ADMIN_PASSWORD, sign_in

from engine.services import audit
from storage import audit_log

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_a_sign_in_shows_its_expiry_as_a_time_and_the_api_keeps_iso_text(user: User) -> None:
    await sign_in(user, 'admin', next_path='/audit')
    login = audit.list_events(app.state.db, action='auth.login').items[0]
    stored = login.details['expires_at']
    assert 'T' in stored  # what the log holds: ISO text

    await user.open('/audit?action=auth.login')
    await user.should_see(marker=f'audit-details-{login.id}')
    (label,) = user.find(marker=f'audit-details-{login.id}').elements
    expiry = re.search(r'expires_at: (\S+ \S+ UTC)', label.text)
    assert expiry is not None, label.text
    assert re.fullmatch(r'\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC', expiry.group(1))
    assert expiry.group(1).replace(' UTC', '') == stored.replace('T', ' ')[:19]
    assert stored not in label.text

    token = await user.http_client.post('/api/v1/auth/token',
                                        json={'username': 'admin', 'password': ADMIN_PASSWORD})
    headers = {'Authorization': f"Bearer {token.json()['access_token']}"}
    answer = await user.http_client.get('/api/v1/audit', headers=headers, params={'action': 'auth.login'})
    assert stored in [item['details']['expires_at'] for item in answer.json()['items']]


async def test_an_offset_becomes_utc_and_a_nested_change_is_a_time_too(user: User) -> None:
    with app.state.db.session() as session:
        event = audit_log.record(session, actor='admin', action='token.updated', details={
            'expires_at': '2026-12-31T01:30:00+01:30',
            'changes': {'expires_at': ['2026-01-01T00:00:00.123456', '2027-01-01T00:00:00+00:00']},
            'note': 'not a time: 2026-12-31T00:00:00', 'bad': '2026-13-40T00:00:00'})
    await sign_in(user, 'admin', next_path='/audit?action=token.updated')

    await user.should_see(marker=f'audit-details-{event.id}', content=(
        'expires_at: 2026-01-01 00:00:00 UTC → 2027-01-01 00:00:00 UTC · expires_at: 2026-12-31 00:00:00 UTC'
        ' · note: not a time: 2026-12-31T00:00:00 · bad: 2026-13-40T00:00:00'))


async def test_a_handed_over_admin_user_reads_taken_over_from_in_old_and_new_events(user: User) -> None:
    with app.state.db.session() as session:  # one event written before the key was renamed, one after
        old = audit_log.record(session, actor='admin', action='run.deprovision_requested',
                               details={'admin_user_kept_by': 'One'})
        new = audit_log.record(session, actor='admin', action='run.deprovision_requested',
                               details={'admin_user_taken_over_from': 'One'})
    await sign_in(user, 'admin', next_path='/audit?action=run.deprovision_requested')

    for event in (old, new):
        await user.should_see(marker=f'audit-details-{event.id}')
        (label,) = user.find(marker=f'audit-details-{event.id}').elements
        assert label.text == 'admin_user_taken_over_from: One'
