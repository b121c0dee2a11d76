"""One look for every status in the dashboard: a coloured badge with an icon and the status text."""

from __future__ import annotations

from nicegui import ui

from dashboard.components.formatting import run_outcome

# status → (Quasar colour, Material icon)
STYLES: dict[str, tuple[str, str]] = {
    'NOT_STARTED': ('grey-6', 'radio_button_unchecked'),
    'PENDING': ('grey-6', 'radio_button_unchecked'),
    'QUEUED': ('blue-grey-6', 'schedule'),
    'RUNNING': ('blue-7', 'autorenew'),
    'PROVISIONING': ('blue-7', 'autorenew'),
    'SUCCEEDED': ('green-7', 'check_circle'),
    'PROVISIONED': ('green-7', 'check_circle'),
    'FAILED': ('red-7', 'error'),
    'CANCELLED': ('orange-8', 'cancel'),
    'SKIPPED': ('orange-8', 'redo'),
    'online': ('green-7', 'cloud_done'),
    'offline': ('red-7', 'cloud_off'),
    'unknown': ('grey-6', 'help'),
}


def style_of(status: str) -> tuple[str, str]:
    return STYLES.get(str(status), ('grey-6', 'help'))


WARNING_STYLE = ('orange-8', 'warning')  # a step that failed without stopping its run (an optional one)


def status_icon(status: str, *, warning: bool = False) -> ui.icon:
    colour, icon = WARNING_STYLE if warning else style_of(status)
    return ui.icon(icon, color=colour).props(f'aria-label="{status}"')


def status_badge(status: str, *, warning: bool = False) -> ui.badge:
    """A badge reading `status` (as text: never HTML); orange for a `warning`."""
    colour, _icon = WARNING_STYLE if warning else style_of(status)
    return ui.badge(str(status), color=colour).classes('px-2 py-1')


def run_style(status: str, warnings: int | None = 0) -> tuple[str, str]:
    """A run's badge text and colour: a success past a failed optional step is orange, not green."""
    colour = WARNING_STYLE[0] if (warnings or 0) > 0 and status == 'SUCCEEDED' else style_of(status)[0]
    return run_outcome(status, warnings), colour


def run_badge(status: str, warnings: int | None = 0) -> ui.badge:
    """A run's status badge, with its warnings ('SUCCEEDED · 1 warning', orange) when it has any."""
    text, colour = run_style(status, warnings)
    return ui.badge(text, color=colour).classes('px-2 py-1')
