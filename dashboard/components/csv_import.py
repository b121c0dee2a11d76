"""The *Import CSV* dialog: upload, preview every row with its problems, then import the good new rows.

All parsing and checking is `engine.services.tenant_import`; this only shows its answers. The import
creates as the signed-in user read again at that moment, while still support or admin (as POST
/api/v1/tenants).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import events, run, ui

from dashboard.components.notify import notify
from dashboard.session import SUPPORT_PLUS, acting
from engine.services import tenant_import
from engine.services.tenant_import import (
    ImportFileError,
    ImportPreview,
    ImportResult,
    LineOutcome,
    RowOutcome,
    RowProblem,
)
from engine.validation import ServiceError
from storage.db import Database
from storage.tables import Engine

OUTCOME_TEXT = {RowOutcome.NEW: 'will be created', RowOutcome.EXISTS: 'already exists: skipped',
                RowOutcome.INVALID: 'has errors: skipped'}
LINE_TEXT = {LineOutcome.CREATED: 'created', LineOutcome.EXISTED: 'already existed: skipped',
             LineOutcome.ERROR: 'has errors: skipped'}
PREVIEW_COLUMNS = [{'name': 'row', 'label': 'Line', 'field': 'row', 'align': 'right'},
                   *({'name': name, 'label': name, 'field': name, 'align': 'left'}
                     for name in tenant_import.COLUMNS),
                   {'name': 'outcome', 'label': 'Import', 'field': 'outcome', 'align': 'left'}]
# The uploader's own header counts bytes sent to a server; this dialog reads the file at once, so
# its counter said "0.0B / 0.00%" after every file. This header keeps only the title and the
# button that picks a file (dropping a file on the uploader works as before).
UPLOAD_HEADER = '''<div class="row no-wrap items-center q-pa-sm q-gutter-xs">
    <div class="col"><div class="q-uploader__title">CSV file: click + or drop it here</div></div>
    <q-btn v-if="props.canAddFiles" type="a" icon="add_box" round dense flat @click="props.pickFiles"
           aria-label="Choose a CSV file"><q-uploader-add-trigger /></q-btn></div>'''
PROBLEM_COLUMNS = [{'name': 'row', 'label': 'Line', 'field': 'row', 'align': 'right'},
                   {'name': 'field', 'label': 'Field', 'field': 'field', 'align': 'left'},
                   {'name': 'message', 'label': 'Problem', 'field': 'message', 'align': 'left'}]


class CsvImport:
    """A dialog; `open()` shows it. Nothing is written before *Import* is clicked."""

    def __init__(self, db: Database, *, engines: list[Engine],
                 on_imported: Callable[[], Awaitable[None]]) -> None:
        self.db, self.on_imported = db, on_imported
        self.content: bytes | None = None
        with ui.dialog() as self.dialog, ui.card().classes('w-[64rem] max-w-full'):
            ui.label('Import tenants from a CSV file').classes('text-lg font-semibold')
            ui.label(f'UTF-8 CSV whose first line is: {tenant_import.HEADER}. Empty stores means 1; '
                     'empty engine means the engine chosen below. At most '
                     f'{tenant_import.MAX_BYTES // 1_000_000} MB and {tenant_import.MAX_ROWS:,} rows. '
                     'You see a preview first; tenants that exist are skipped.') \
                .classes('text-sm text-gray-700')
            self.engine = ui.select({e.id: e.name for e in engines}, label='Engine for rows without one',
                                    # as the New tenant form: chosen for you only when there is one
                                    value=engines[0].id if len(engines) == 1 else None,
                                    on_change=self._engine_changed).classes('w-72').mark('import-engine')
            self.upload = ui.upload(label='CSV file', auto_upload=True, max_file_size=tenant_import.MAX_BYTES,
                                    on_upload=self._received, on_rejected=self._rejected) \
                .props('accept=".csv,text/csv,text/plain"').classes('w-full').mark('import-upload')
            self.upload.add_slot('header', UPLOAD_HEADER)
            self.file_label = ui.label('No file loaded yet.').classes('text-sm text-gray-700') \
                .mark('import-file')
            self.message = ui.label('').classes('text-red-700').mark('import-message')
            self.summary = ui.label('').mark('import-summary')
            self.preview_table = ui.table(rows=[], columns=PREVIEW_COLUMNS, row_key='row', pagination=10) \
                .classes('w-full').props('dense flat bordered').mark('import-preview')
            self.problem_table = ui.table(rows=[], columns=PROBLEM_COLUMNS, row_key='key', pagination=10) \
                .classes('w-full').props('dense flat bordered').mark('import-problems')
            with ui.row().classes('w-full justify-end'):
                ui.button('Close', on_click=self.dialog.close).props('flat')
                self.import_button = ui.button('Import', icon='upload', on_click=self.run_import) \
                    .mark('import-run')
        self._show(None)

    def open(self) -> None:
        self.dialog.open()

    async def run_import(self) -> None:
        if self.content is None:
            return
        if (user := await acting(SUPPORT_PLUS)) is None:
            self.dialog.close()
            return
        self.import_button.disable()
        try:
            result = await run.io_bound(tenant_import.import_csv, self.db, self.content, actor=user.username,
                                        default_engine=self.engine.value)
        except ServiceError as exc:
            self.message.set_text(_sentence(exc.message.removeprefix('file: ')))
            self.import_button.enable()
            return
        if result is None:  # the app is shutting down
            return
        notify(_result_text(result), type='positive' if result.created else 'info', multi_line=True)
        self._show_result(result)  # what the import did with each line (a new preview would call the
        # tenants it just created "already exists")
        await self.on_imported()

    # ---- helpers --------------------------------------------------------------------------------

    async def _received(self, event: events.UploadEventArguments) -> None:
        self.upload.reset()
        if await acting(SUPPORT_PLUS) is None:  # a preview tells which tenant names exist: as the import
            self.content = None
            self._show(None)
            self.dialog.close()
            return
        if event.file.size() > tenant_import.MAX_BYTES:
            self._rejected()
            return
        self.content = await event.file.read()
        self.file_label.set_text(f'Loaded: {event.file.name} ({size_text(len(self.content))})')
        await self._preview()

    def _rejected(self) -> None:
        self.content = None
        self._show(None)
        self.file_label.set_text('No file loaded.')
        self.message.set_text(f'The file is larger than {tenant_import.MAX_BYTES // 1_000_000} MB: '
                              'split it into smaller files.')

    async def _engine_changed(self) -> None:
        if self.content is None:
            return
        if await acting(SUPPORT_PLUS) is None:
            self.content = None
            self._show(None)
            self.dialog.close()
            return
        await self._preview()

    async def _preview(self) -> None:
        try:
            preview = await run.io_bound(tenant_import.preview_csv, self.db, self.content,
                                         default_engine=self.engine.value)
        except ServiceError as exc:
            self.content = None
            self._show(None)
            message = exc.message.removeprefix('file: ') if isinstance(exc, ImportFileError) else exc.message
            self.message.set_text(_sentence(message))
            return
        self._show(preview)

    def _show(self, preview: ImportPreview | None) -> None:
        rows = preview.rows if preview else []
        self.message.set_text('')
        self._fill([(row.row, row.values, OUTCOME_TEXT[row.outcome]) for row in rows],
                   preview.problems if preview else [])
        new = preview.count(RowOutcome.NEW) if preview else 0
        self.summary.set_text(_preview_text(preview) if preview else '')
        self.import_button.set_enabled(new > 0)


    def _show_result(self, result: ImportResult) -> None:
        """The file's lines as the import left them: created, already existed or skipped with errors."""
        self._fill([(line.row, line.values, LINE_TEXT[line.outcome]) for line in result.lines],
                   [problem for line in result.lines for problem in line.problems])
        self.summary.set_text(f'Imported: {_result_text(result)}')
        self.import_button.disable()  # done: loading the file again shows what a new import would do

    def _fill(self, lines: list[tuple[int, dict[str, str], str]], problems: list[RowProblem]) -> None:
        self.preview_table.rows = [{**{name: values.get(name, '') for name in tenant_import.COLUMNS},
                                    'row': row, 'outcome': outcome} for row, values, outcome in lines]
        self.problem_table.rows = [{'key': f'{p.row}:{p.field}:{i}', 'row': p.row, 'field': p.field,
                                    'message': p.message} for i, p in enumerate(problems)]
        self.preview_table.set_visibility(bool(lines))
        self.problem_table.set_visibility(bool(problems))


def size_text(size: int) -> str:
    """Bytes in words: 512 bytes, 12.3 kB, 1.0 MB."""
    if size < 1_000:
        return f'{size} byte{"" if size == 1 else "s"}'
    return f'{size / 1_000:.1f} kB' if size < 1_000_000 else f'{size / 1_000_000:.1f} MB'


def _sentence(text: str) -> str:
    """A message as a sentence: its first letter capitalised (the service's start in lower case)."""
    return text[:1].upper() + text[1:]


def _preview_text(preview: ImportPreview) -> str:
    """'5 rows: 1 will be created, 1 already exists, 3 have errors.' (each verb agreeing with its count)."""
    exist, errors = preview.count(RowOutcome.EXISTS), preview.count(RowOutcome.INVALID)
    return (f'{len(preview.rows)} {"row" if len(preview.rows) == 1 else "rows"}: '
            f'{preview.count(RowOutcome.NEW)} will be created, {exist} already {"exists" if exist == 1 else "exist"}, '
            f'{errors} {"has" if errors == 1 else "have"} errors.')


def _result_text(result: ImportResult) -> str:
    """The counts of the result's lines (the table shows the same lines), and why a creation failed."""
    failed = ' '.join(f'Line {row}: {message}.' for row, message in sorted(result.failed.items()))
    return f'{result.summary} {failed}'.strip()
