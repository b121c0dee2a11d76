"""Tenants page (being built)."""

from __future__ import annotations

from nicegui import ui

from dashboard.session import ANY_ROLE, guarded_page
from storage.tables import User


@guarded_page('/tenants', title='Tenants', roles=ANY_ROLE)
def tenants_page(user: User) -> None:
    ui.label('This page is being built.')
