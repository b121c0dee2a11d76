"""Tenants from a CSV file: check every row first (a preview), then create the good new ones.

The file is UTF-8 (a BOM is fine) with the header `name,country,currency,admin_email,stores,engine`
in any order and case, its values separated by commas or, as Excel saves "CSV" in many European
locales, by semicolons (the header tells which); `stores` (default 1) and `engine` (default: the engine chosen for the
import, or the only engine) may be left out. Rows are checked with the same rules as the REST API
(`TenantCreate`). A row whose tenant name exists already is reported as such and skipped, so
importing the same file twice creates nothing the second time.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ValidationError
from sqlmodel import Session

from engine.services import tenants
from engine.services.engines import find_engine
from engine.validation import Conflict, InvalidInput, ServiceError, TenantCreate, describe_errors
from storage import audit_log
from storage.db import Database
from storage.name_keys import name_key
from storage.queries import engines as engine_queries
from storage.queries import tenants as tenant_queries
from storage.tables import Engine, Tenant

MAX_BYTES = 1_000_000
MAX_ROWS = 2_000
COLUMNS = ('name', 'country', 'currency', 'admin_email', 'stores', 'engine')
REQUIRED_COLUMNS = ('name', 'country', 'currency', 'admin_email')
HEADER = ','.join(COLUMNS)
MAX_AUDIT_RANGES = 20  # of created tenant ids in the `tenant.imported` event


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read: too large, not UTF-8 text, or a wrong header."""

    def __init__(self, message: str) -> None:
        super().__init__('file', message)


class RowOutcome(StrEnum):
    NEW = 'new'                # valid, will be created
    EXISTS = 'already exists'  # a tenant of that name exists: skipped
    INVALID = 'invalid'        # at least one problem: skipped


@dataclass(frozen=True)
class RowProblem:
    row: int  # the line of the file (the header is line 1)
    field: str
    message: str


@dataclass(frozen=True)
class ImportRow:
    row: int
    values: dict[str, str]
    outcome: RowOutcome
    problems: list[RowProblem] = field(default_factory=list)
    data: TenantCreate | None = None  # set for NEW rows, with the engine resolved to its id


@dataclass(frozen=True)
class ImportPreview:
    rows: list[ImportRow]

    def count(self, outcome: RowOutcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def problems(self) -> list[RowProblem]:
        return [problem for row in self.rows for problem in row.problems]


class LineOutcome(StrEnum):
    """What an import did with one line of the file."""

    CREATED = 'created'
    EXISTED = 'already existed'  # skipped: a tenant of that name exists (made before, or meanwhile)
    ERROR = 'error'              # skipped: the row has problems, or creating it failed


@dataclass(frozen=True)
class ImportedLine:
    row: int
    values: dict[str, str]
    outcome: LineOutcome
    problems: list[RowProblem] = field(default_factory=list)  # why an ERROR line was skipped


@dataclass(frozen=True)
class ImportResult:
    created: list[Tenant]
    already_existing: list[str]
    invalid_rows: int
    failed: dict[int, str]  # row → why creating it failed (e.g. the engine vanished meanwhile)
    correlation_id: str  # on the `tenant.imported` event and on each created tenant's `tenant.created`
    lines: list[ImportedLine] = field(default_factory=list)  # every line of the file, in order

    def count(self, outcome: LineOutcome) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def summary(self) -> str:
        """The counts of `lines`, in words: '1 tenant created, 1 already existed, 3 rows with errors skipped.'"""
        created, existed, errors = (self.count(outcome) for outcome in LineOutcome)
        return (f'{created} {_plural(created, "tenant")} created, {existed} already existed, '
                f'{errors} {_plural(errors, "row")} with errors skipped.')


def preview_csv(db: Database, content: bytes, *, default_engine: int | str | None = None) -> ImportPreview:
    """Every row of the file with what importing it would do; writes nothing."""
    header, records = _read_csv(content)
    with db.session() as session:
        engines = _EngineLookup(session, default_engine)
        rows = [_check_row(line, dict(zip(header, values, strict=False)),
                           sum(1 for value in values[len(header):] if value.strip()), engines)
                for line, values in records]
        taken = tenant_queries.existing_names(session, [row.data.name for row in rows if row.data])
    return ImportPreview(rows=_mark_existing_and_repeated(rows, taken))


def import_csv(db: Database, content: bytes, *, actor: str,
               default_engine: int | str | None = None) -> ImportResult:
    """Create the valid rows whose tenant does not exist yet (checked again now); audited, every event
    of the import (its `tenant.imported` and each tenant's `tenant.created`) under one correlation id."""
    preview = preview_csv(db, content, default_engine=default_engine)
    correlation_id = uuid.uuid4().hex
    created: list[Tenant] = []
    existing = [row.values.get('name', '') for row in preview.rows if row.outcome == RowOutcome.EXISTS]
    failed: dict[int, str] = {}
    lines: list[ImportedLine] = []
    for row in preview.rows:
        outcome, problems = PREVIEW_TO_LINE.get(row.outcome), row.problems
        if row.outcome == RowOutcome.NEW:
            try:
                created.append(tenants.create_tenant(db, row.data, actor=actor, correlation_id=correlation_id))
                outcome = LineOutcome.CREATED
            except Conflict:  # created by someone else since the preview
                existing.append(row.data.name)
                outcome = LineOutcome.EXISTED
            except ServiceError as exc:
                failed[row.row] = exc.message
                outcome, problems = LineOutcome.ERROR, [RowProblem(row.row, 'tenant', exc.message)]
        lines.append(ImportedLine(row.row, row.values, outcome, problems))
    result = ImportResult(created=created, already_existing=existing,
                          invalid_rows=preview.count(RowOutcome.INVALID), failed=failed,
                          correlation_id=correlation_id, lines=lines)
    _audit(db, actor, len(preview.rows), result)
    return result


PREVIEW_TO_LINE = {RowOutcome.EXISTS: LineOutcome.EXISTED, RowOutcome.INVALID: LineOutcome.ERROR}


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else f'{noun}s'


# ---- reading the file --------------------------------------------------------------------------

def _read_csv(content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (lower-cased column names) and the non-blank records with their line numbers."""
    if len(content) > MAX_BYTES:
        raise ImportFileError(f'the file is larger than {MAX_BYTES // 1_000_000} MB: '
                              'split it into smaller files')
    text = _decode(content)
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=_delimiter(text))
    try:
        header = _check_header(next(reader, []))
        records = []
        for values in reader:
            if any(value.strip() for value in values):
                records.append((reader.line_num, values))
            if len(records) > MAX_ROWS:
                raise ImportFileError(f'the file has more than {MAX_ROWS:,} rows: split it into smaller files')
    except csv.Error as exc:
        raise ImportFileError(f'line {reader.line_num} is not valid CSV ({exc})') from None
    if not records:
        raise ImportFileError('the file has a header but no rows')
    return header, records


def _delimiter(text: str) -> str:
    """';' when the header separates its columns by semicolons and holds no comma (Excel's "CSV" where
    the decimal separator is a comma), else ','. The header's own problems are reported after."""
    header = text.lstrip('\ufeff').split('\n', 1)[0].strip()
    return ';' if ';' in header and ',' not in header else ','


def _decode(content: bytes) -> str:
    try:
        text = content.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise ImportFileError('the file is not UTF-8 text: save it as "CSV UTF-8" '
                              'and upload it again') from None
    if '\x00' in text:
        raise ImportFileError('the file is not a text CSV file (it contains NUL bytes)')
    return text


def _check_header(header: list[str]) -> list[str]:
    names = [name.strip().lower() for name in header]
    while names and not names[-1]:  # spreadsheets add separators after the last column once used
        names.pop()
    if not any(names):
        raise ImportFileError(f'the file is empty: the first line must be the header {HEADER}')
    unknown = [name for name in names if name not in COLUMNS]
    if any(';' in name for name in unknown):
        raise ImportFileError(f'the first line must be the header {HEADER}: the file mixes commas and semicolons '
                              'between its columns; save it as "CSV UTF-8 (comma delimited)" and upload it again')
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if unknown or missing or repeated:
        parts = ([f"unknown column(s) {', '.join(repr(n) for n in unknown)}"] if unknown else []) + \
                ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                ([f"repeated column(s) {', '.join(repeated)}"] if repeated else [])
        raise ImportFileError(f"the first line must be the header {HEADER} ({'; '.join(parts)})")
    return names


# ---- checking rows -----------------------------------------------------------------------------

class _EngineLookup:
    """Engine references of the file resolved once each; blank → the default or the only engine."""

    def __init__(self, session: Session, default: int | str | None) -> None:
        self.session = session
        self.cache: dict[str, Engine | None] = {}
        engines = engine_queries.all_engines(session)
        self.default = find_engine(session, default) if default not in (None, '') else \
            (engines[0] if len(engines) == 1 else None)

    def resolve(self, ref: str) -> Engine | None:
        if not ref:
            return self.default
        key = name_key(ref)
        if key not in self.cache:
            self.cache[key] = find_engine(self.session, ref)
        return self.cache[key]


def _check_row(line: int, values: dict[str, str], extra: int, engines: _EngineLookup) -> ImportRow:
    values = {name: value.strip() for name, value in values.items()}
    problems = []
    if extra > 0:
        problems.append(RowProblem(line, 'row', f'has {extra} value(s) more than the header has columns'))
    engine_ref = values.get('engine', '')
    engine = engines.resolve(engine_ref)
    if engine is None:
        message = (f"no engine with id or name '{engine_ref}'" if engine_ref else
                   'is required (there are several engines: choose one for the import or fill the column)')
        problems.append(RowProblem(line, 'engine', message))
    fields = {name: value for name, value in values.items() if name != 'engine' and value != ''}
    try:
        data = TenantCreate.model_validate({**fields, 'engine': engine.id if engine else 1})
    except ValidationError as exc:
        problems.extend(RowProblem(line, name, message) for name, message in describe_errors(exc))
        data = None
    if problems:
        return ImportRow(line, values, RowOutcome.INVALID, problems)
    return ImportRow(line, values, RowOutcome.NEW, data=data)


def _mark_existing_and_repeated(rows: list[ImportRow], taken: set[str]) -> list[ImportRow]:
    """`taken`: the name keys that exist; a row repeating an earlier row's name (case and spacing
    aside) is refused."""
    first_line: dict[str, int] = {}
    marked = []
    for row in rows:
        key = name_key(row.data.name) if row.data else None
        if key is not None and key in taken:
            row = ImportRow(row.row, row.values, RowOutcome.EXISTS)
        elif key is not None and key in first_line:
            problem = RowProblem(row.row, 'name', f'repeats the name of line {first_line[key]}')
            row = ImportRow(row.row, row.values, RowOutcome.INVALID, [problem])
        elif key is not None:
            first_line[key] = row.row
        marked.append(row)
    return marked


def _audit(db: Database, actor: str, rows: int, result: ImportResult) -> None:
    """One event with the counts; the created tenants as id ranges, so that 2,000 rows still read as one
    line (each tenant's own `tenant.created` event names it, under the same correlation id)."""
    details = {'rows': rows, 'created': len(result.created), 'already_existing': len(result.already_existing),
               'invalid': result.invalid_rows, 'failed': len(result.failed)}
    if result.created:
        details['tenant_id_ranges'] = id_ranges([tenant.id for tenant in result.created])
    with db.session() as session:
        audit_log.record(session, actor=actor, action='tenant.imported', details=details,
                         correlation_id=result.correlation_id)


def id_ranges(ids: list[int], *, at_most: int = MAX_AUDIT_RANGES) -> str:
    """`'101-350, 352-600'`: the ids as runs of consecutive numbers; past `at_most` runs (other tenants
    created during the import took ids in between) the rest is counted: `'…, 180 and 95 more'`."""
    runs: list[list[int]] = []
    for number in sorted(set(ids)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    text = ', '.join(f'{first}-{last}' if last > first else str(first) for first, last in runs[:at_most])
    rest = sum(last - first + 1 for first, last in runs[at_most:])
    return f'{text} and {rest} more' if rest else text
