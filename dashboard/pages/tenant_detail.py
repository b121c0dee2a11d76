"""Tenant page (being built)."""

from __future__ import annotations

from nicegui import ui

from dashboard.session import ANY_ROLE, guarded_page
from storage.tables import User


@guarded_page('/tenants/{tenant_id}', title='Tenant', roles=ANY_ROLE)
def tenant_detail_page(user: User, tenant_id: int) -> None:
    ui.label('This page is being built.')
