"""Overview (being built)."""

from __future__ import annotations

from nicegui import ui

from dashboard.session import guarded_page
from storage.tables import User


@guarded_page('/', title='Overview')
def overview_page(user: User) -> None:
    ui.label(f'Welcome, {user.username}.')
