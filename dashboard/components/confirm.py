"""A confirmation dialog, optionally asking for a reason (for actions that go into the audit log).

    answer = await confirm('Skip step', 'The run goes on without it.', reason_label='Why?')
    if answer is None: ...            # cancelled (or the page went away)
    answer.reason                     # '' unless a reason was asked for; never blank when it was

The dialog is built when asked and deleted afterwards, so a closed dialog leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import ui

MAX_REASON = 500


@dataclass(frozen=True)
class Confirmed:
    reason: str = ''


async def confirm(title: str, message: str, *, confirm_label: str = 'Confirm', cancel_label: str = 'Cancel',
                  reason_label: str | None = None, danger: bool = False) -> Confirmed | None:
    """Ask the user; a reason, when `reason_label` is given, is required (at most 500 characters).
    Where the action itself is a cancel, name the way back by what it keeps (`cancel_label='Keep
    running'`): two buttons that both say "cancel" leave the reader guessing."""
    dialog = ConfirmDialog(title, message, confirm_label=confirm_label, cancel_label=cancel_label,
                           reason_label=reason_label, danger=danger)
    try:
        return await dialog
    finally:
        if not dialog.is_deleted:
            dialog.delete()


class ConfirmDialog(ui.dialog):
    """Title, message (as text), an optional required reason, the way back and a confirm button."""

    def __init__(self, title: str, message: str, *, confirm_label: str, reason_label: str | None,
                 danger: bool, cancel_label: str = 'Cancel') -> None:
        super().__init__()
        self.props('persistent')
        self.mark('confirm-dialog')
        self.reason: ui.input | None = None
        with self, ui.card().classes('w-[28rem] max-w-full'):
            ui.label(title).classes('text-lg font-semibold')
            ui.label(message).classes('whitespace-pre-line wrap-anywhere')
            if reason_label is not None:
                self.reason = ui.input(reason_label).props(f'autofocus counter maxlength={MAX_REASON}') \
                    .classes('w-full').mark('confirm-reason')
                self.reason.on('keydown.enter', self._confirm)
            self.error = ui.label('').classes('text-red-700 text-sm').mark('confirm-error')
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button(cancel_label, on_click=lambda: self.submit(None)).props('flat') \
                    .mark('confirm-cancel')
                ui.button(confirm_label, on_click=self._confirm, color='negative' if danger else 'primary') \
                    .mark('confirm-ok')

    def _confirm(self) -> None:
        if self.reason is None:
            self.submit(Confirmed())
            return
        reason = (self.reason.value or '').strip()
        if not reason:
            self.error.set_text('A reason is required: it goes into the audit log.')
            return
        self.submit(Confirmed(reason=reason[:MAX_REASON]))
