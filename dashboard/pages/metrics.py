"""Metrics page (being built)."""

from __future__ import annotations

from nicegui import ui

from dashboard.session import MANAGER_PLUS, guarded_page
from storage.tables import User


@guarded_page('/metrics', title='Metrics', roles=MANAGER_PLUS)
def metrics_page(user: User) -> None:
    ui.label('This page is being built.')
