"""Users page (being built)."""

from __future__ import annotations

from nicegui import ui

from dashboard.session import ADMIN_ONLY, guarded_page
from storage.tables import User


@guarded_page('/users', title='Users', roles=ADMIN_ONLY)
def users_page(user: User) -> None:
    ui.label('This page is being built.')
