"""Notifications (toasts) of every page, in one place: they appear in the bottom-right corner, so they
never cover the buttons they are about (NiceGUI's default, bottom centre, sits over the page)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

POSITION = 'bottom-right'  # top-right covered the header's user name and Log out


def notify(message: str, **options: Any) -> None:
    """`ui.notify` with the app's position (a call may still pass its own)."""
    options.setdefault('position', POSITION)
    ui.notify(message, **options)  # looked up at each call: NiceGUI's test `User` replaces ui.notify
