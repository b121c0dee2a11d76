"""An admin's password reset or re-activation that lifts a lockout is audited as the other user
changes are, [before, after], and the audit page reads it so: 'locked_until: … UTC → not locked',
'failed_logins: 3 → 0' (not 'unlocked: yes')."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import sign_in

from engine.services import audit, users
from engine.validation import UserCreate, UserUpdate
from storage.tables import User as UserRow
from storage.tables import utcnow

pytestmark = pytest.mark.nicegui_main_file('main.py')


def locked_user(name: str, *, locked_for: timedelta | None, failed_logins: int = 0) -> int:
    """A support user as the sign-in limiter leaves one: locked until a moment, or with failures counted."""
    db = app.state.db
    user = users.create_user(db, UserCreate(username=name, password='Passw0rd-long', role='support'), actor='tests')
    with db.session() as session:
        row = session.get(UserRow, user.id)
        row.locked_until = (utcnow() + locked_for).replace(microsecond=0) if locked_for else None
        row.failed_logins = failed_logins
        session.add(row)
    return user.id


async def test_a_lifted_lock_reads_as_a_change_from_until_to_not_locked(user: User) -> None:
    sam = locked_user('sam', locked_for=timedelta(minutes=5))
    kim = locked_user('kim', locked_for=None, failed_logins=3)
    users.update_user(app.state.db, sam, UserUpdate(password='NewPassw0rd-9'), actor='admin')
    users.update_user(app.state.db, kim, UserUpdate(active=True), actor='admin')

    events = {event.details['username']: event for event in audit.list_events(app.state.db,
                                                                               action='user.updated').items}
    until = events['sam'].details['changes']['locked_until'][0]
    assert events['sam'].details['changes'] == {'password': 'changed', 'locked_until': [until, 'not locked']}
    assert events['kim'].details['changes'] == {'failed_logins': [3, 0]}

    await sign_in(user, 'admin', next_path='/audit?action=user.updated')
    shown = until.replace('T', ' ')[:19] + ' UTC'
    await user.should_see(marker=f"audit-details-{events['sam'].id}",
                          content=f'password: changed · locked_until: {shown} → not locked')
    await user.should_see(marker=f"audit-details-{events['kim'].id}", content='failed_logins: 3 → 0')
    await user.should_not_see('unlocked')
