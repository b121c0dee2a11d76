"""Users (admins): list, create, change role, deactivate / reactivate, reset a password. Every change
goes through engine/services/users.py, which audits it and refuses to leave no active admin; each
acts as the signed-in user read again at that moment, while still an admin (session.acting)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import app, run, ui
from pydantic import ValidationError

from dashboard import session, state
from dashboard.components.confirm import confirm
from dashboard.components.notify import notify
from engine.rate_limits import LoginLimiter
from engine.services import users
from engine.validation import Conflict, ServiceError, UserCreate, UserUpdate, describe_errors
from storage.db import Database
from storage.tables import Role, User, utcnow

ROLES = {role.value: role.value for role in Role}
ROLE_POWERS = {
    Role.ADMIN.value: 'Admins manage users and engines, act on single steps and read the audit log.',
    Role.SUPPORT.value: 'Support staff create and provision tenants and retry runs.',
    Role.MANAGER.value: 'Managers read the charts and are read-only elsewhere.',
}
COLUMNS = ('Username', 'Role', 'Active', 'Sign-in lock', 'Created', '')
# Locks per client address live in each process's limiter, which cannot list them: said, not shown.
ADDRESS_LOCKS = ('Five wrong passwords from one address lock the name for that address only, for five minutes '
                 '(not listed here). Reset password lifts every lock.')


@session.guarded_page('/users', title='Users', roles=session.ADMIN_ONLY)
async def users_page(user: User) -> None:
    await UserList(user).load()


class UserList:
    """The user table of one browser tab; each action re-reads it."""

    def __init__(self, user: User) -> None:
        self.db = session.database()
        self.create_form = UserForm(self.db, on_created=self.load)
        self.password_form = PasswordForm(self.db)
        with ui.row().classes('w-full items-center'):
            self.message = ui.label('').classes('text-red-8').mark('users-message')
            ui.space()
            ui.button('New user', icon='person_add', on_click=self.create_form.open).mark('user-add')
        with ui.element('div').classes('w-full overflow-x-auto').mark('users-scroll'):  # narrow screens
            self.table = ui.grid(columns='minmax(8rem, 1fr) 9rem 7rem 12rem 12rem max-content') \
                .classes('w-full min-w-[64rem] items-center gap-x-4 gap-y-2')

    async def load(self) -> None:
        rows = await run.io_bound(users.list_users, self.db)
        self.table.clear()
        with self.table:
            for title in COLUMNS:
                ui.label(title).classes('text-sm font-semibold text-grey-7')
            for row in rows:
                self._row(row)

    def _row(self, row: User) -> None:
        ui.label(row.username).mark(f'user-{row.username}')
        ui.select(ROLES, value=row.role, on_change=lambda e, r=row: self.change_role(r, e.value)) \
            .props('dense').mark(f'user-role-{row.username}')
        ui.label('active' if row.active else 'inactive') \
            .classes('text-green-8' if row.active else 'text-grey-6').mark(f'user-active-{row.username}')
        ui.label(lock_text(row)).classes('text-sm').tooltip(ADDRESS_LOCKS).mark(f'user-lock-{row.username}')
        ui.label(f'{row.created_at:%Y-%m-%d %H:%M} UTC')
        with ui.row().classes('gap-1 no-wrap'):
            if row.active:
                ui.button('Deactivate', on_click=lambda r=row: self.deactivate(r)) \
                    .props('flat dense color=negative').mark(f'user-deactivate-{row.username}')
            else:
                ui.button('Reactivate', on_click=lambda r=row: self.change(r, UserUpdate(active=True))) \
                    .props('flat dense').mark(f'user-reactivate-{row.username}')
            ui.button('Reset password', on_click=lambda r=row: self.password_form.open(r)) \
                .props('flat dense').mark(f'user-password-{row.username}')

    async def change_role(self, row: User, role: str | None) -> None:
        """Asks first; on Cancel the list is re-read, so the select shows the stored role again."""
        if not role or role == row.role:
            return
        answer = await confirm(f"Change the role of '{row.username}'?",
                               f"'{row.username}' becomes {role} (now {row.role}). "
                               f"{ROLE_POWERS.get(role, '')}",
                               confirm_label=f'Make {role}', danger=role == Role.ADMIN.value)
        if answer is None:
            await self.load()
            return
        await self.change(row, UserUpdate(role=role))

    async def deactivate(self, row: User) -> None:
        answer = await confirm(f"Deactivate '{row.username}'?",
                               f"'{row.username}' is signed out everywhere, their API tokens stop working, "
                               'and they cannot sign in until an admin reactivates them.',
                               confirm_label='Deactivate', danger=True)
        if answer is not None:
            await self.change(row, UserUpdate(active=False))

    async def change(self, row: User, data: UserUpdate) -> None:
        self.message.set_text('')
        if (admin := await session.acting(session.ADMIN_ONLY)) is None:
            return
        try:
            await run.io_bound(users.update_user, self.db, row.id, data, actor=admin.username,
                               limiter=_login_limiter())
        except ServiceError as exc:  # e.g. the last active admin: shown, and the row put back as it was
            self.message.set_text(exc.message)
            notify(exc.message, type='negative')
        else:
            notify(f"User '{row.username}' updated.", type='positive')
        await self.load()


class UserForm:
    """The *New user* dialog (UserCreate's rules, each error under its field)."""

    def __init__(self, db: Database, *, on_created: Callable[[], Awaitable[None]]) -> None:
        self.db, self.on_created = db, on_created
        with ui.dialog() as self.dialog, ui.card().classes('w-[28rem] max-w-full'):
            ui.label('New user').classes('text-lg font-semibold')
            self.fields: dict[str, Any] = {
                'username': ui.input('Username', placeholder='jane.doe').mark('new-user-name'),
                'password': ui.input('Password (at least 10 characters)', password=True,
                                     password_toggle_button=True).props('autocomplete=new-password')
                .mark('new-user-password'),
                'role': ui.select(ROLES, label='Role', value=Role.SUPPORT.value).mark('new-user-role'),
            }
            _watch_errors(self.fields)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=self.dialog.close).props('flat')
                self.submit = ui.button('Create user', on_click=self.create).mark('new-user-create')

    def open(self) -> None:
        for key, element in self.fields.items():
            element.value = Role.SUPPORT.value if key == 'role' else ''
            element.error = None
        self.dialog.open()

    async def create(self) -> None:
        data = _validated(UserCreate, self.fields)
        if data is None:
            return
        if (admin := await session.acting(session.ADMIN_ONLY)) is None:
            self.dialog.close()
            return
        try:
            created = await run.io_bound(users.create_user, self.db, data, actor=admin.username)
        except Conflict as exc:
            self.fields['username'].error = exc.message
            return
        except ServiceError as exc:
            notify(exc.message, type='negative')
            return
        self.fields['password'].value = ''
        self.dialog.close()
        notify(f"User '{created.username}' created.", type='positive')
        await self.on_created()


class PasswordForm:
    """*Reset password*: the admin types the new one; the user's sessions and tokens end."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.user: User | None = None
        with ui.dialog() as self.dialog, ui.card().classes('w-[28rem] max-w-full'):
            self.title = ui.label('').classes('text-lg font-semibold')
            ui.label('The user is signed out everywhere and signs in with the new password.') \
                .classes('text-sm text-grey-7')
            self.fields: dict[str, Any] = {
                'password': ui.input('New password (at least 10 characters)', password=True,
                                     password_toggle_button=True).props('autocomplete=new-password')
                .mark('reset-password'),
            }
            _watch_errors(self.fields)
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=self.dialog.close).props('flat')
                ui.button('Set password', on_click=self.save).mark('reset-password-save')

    def open(self, user: User) -> None:
        self.user = user
        self.title.set_text(f"Reset the password of '{user.username}'")
        self.fields['password'].value = ''
        self.fields['password'].error = None
        self.dialog.open()

    async def save(self) -> None:
        data = _validated(UserUpdate, self.fields)
        if data is None or self.user is None:
            return
        if not data.password:
            self.fields['password'].error = 'type the new password'
            return
        if (admin := await session.acting(session.ADMIN_ONLY)) is None:
            self.dialog.close()
            return
        try:
            await run.io_bound(users.update_user, self.db, self.user.id, data, actor=admin.username,
                               limiter=_login_limiter())
        except ServiceError as exc:
            self.fields['password'].error = exc.message
            return
        self.fields['password'].value = ''
        self.dialog.close()
        notify(f"Password of '{self.user.username}' changed.", type='positive')


# ---- helpers -----------------------------------------------------------------------------------

def lock_text(user: User) -> str:
    """'not locked', or until when the name is locked for sign-ins from every address."""
    if user.locked_until is not None and user.locked_until > utcnow():
        return f'locked for sign-ins from every address until {user.locked_until:%Y-%m-%d %H:%M} UTC'
    return 'not locked'


def _validated(model: type[UserCreate] | type[UserUpdate], fields: dict[str, Any]) -> Any:
    """The form as `model`, or None after showing each error under its field."""
    try:
        return model.model_validate({key: element.value for key, element in fields.items()})
    except ValidationError as exc:
        for field, message in describe_errors(exc):
            element = fields.get(field.split('.')[0])
            if element is None:
                notify(f'{field}: {message}', type='negative')
            else:
                element.error = message
        return None


def _watch_errors(fields: dict[str, Any]) -> None:
    for element in fields.values():
        element.classes('w-full').props('error=false')
        element.on_value_change(lambda _e, element=element: setattr(element, 'error', None))


def _login_limiter() -> LoginLimiter:
    """The sign-in limiter the API and the sign-in page share (a reset lifts its locks)."""
    return state.limiter(app, 'login_limiter', LoginLimiter)
