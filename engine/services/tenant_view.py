"""Read models of one tenant's page: header, run history, the ERPNext documents its runs created or
use (with desk links), its audit trail, and what a plan run found. Read-only: nothing here writes.

The documents come from the step outputs of the tenant's provisioning runs (plan runs only look,
so their outputs are ignored) plus the write-ahead intents: a name a run recorded before creating
it is "created by Provisioner", anything else a step reports is an existing document it uses. An
intent no step output names yet is "being created" while its run runs, and may not exist otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from engine.services import audit, names
from engine.services.tenant_lookup import tenant_in
from engine.steps import STEP_TITLES, STEPS
from engine.teardown import TEARDOWN_STEPS
from engine.teardown.common import GO_WITH_COMPANY
from engine.validation import MAX_ID, InvalidInput, Page
from storage import run_meta
from storage.db import Database
from storage.queries import runs as run_queries
from storage.tables import Engine, Run, RunMode, RunStatus, StepStatus, Tenant, TenantStatus

MAX_HISTORY = 200
# NOTE: the note engine/steps/common.py's plan_enable writes beside `enable` (for readers of the raw output)
ENABLE_NOTE = 'would enable again (disabled in ERPNext): '
MAX_RUNS_SCANNED = 50  # documents: how far back to look for each step's newest output


@dataclass(frozen=True)
class TenantHeader:
    """The tenant as its page's header shows it."""

    id: int
    name: str
    company_name: str
    abbr: str | None
    country: str
    currency: str
    admin_email: str
    stores: int
    status: str
    last_error: str | None
    engine_id: int
    engine_name: str
    created_by: str | None
    created_at: datetime
    drifted: bool = False
    drift_detail: str | None = None
    drift_checked_at: datetime | None = None


@dataclass(frozen=True)
class RunSummary:
    """One line of the run history."""

    id: int
    mode: str
    status: str
    trigger: str
    attempt: int
    requested_by: str | None
    retried_by: str | None  # a retry keeps the run (and its requester): who retried it last
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    warnings: int
    error_step: str | None
    error_category: str | None
    error_message: str | None
    repair: bool = False  # a Repair asked for it (its trigger stays manual)

    @property
    def kind(self) -> str:
        """What the history calls the run: its mode, or 'repair'."""
        return 'repair' if self.repair else self.mode


@dataclass(frozen=True)
class RunHistory:
    items: list[RunSummary]
    has_more: bool


@dataclass(frozen=True)
class DocumentLink:
    """An ERPNext document of the tenant and where to open it in ERPNext's desk."""

    doctype: str
    name: str
    step_key: str
    step_title: str
    created: bool  # True: a run recorded the intent to create it (it is ours)
    note: str
    url: str
    fate: str | None = None  # after a teardown: 'deleted by the teardown', 'kept in ERPNext: …', …
    pending: str | None = None  # an intent no step output confirms: where it comes from, in words


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    run_id: int | None
    step_key: str | None
    details: dict[str, Any]  # as stored, the engine named (`engine`) rather than numbered; pages word it
    correlation_id: str | None


@dataclass(frozen=True)
class PlannedStep:
    """What a plan run's step found in ERPNext and what a provisioning run would create, or enable
    again (documents of the tenant somebody disabled in ERPNext)."""

    key: str
    title: str
    status: str
    exists: list[str]
    create: list[str]
    enable: list[str]
    note: str | None
    error: str | None


def tenant_header(db: Database, tenant_id: int) -> TenantHeader:
    """The tenant and its engine; NotFound for an unknown id."""
    with db.session() as session:
        tenant = tenant_in(session, tenant_id)
        engine = session.get(Engine, tenant.engine_id)
        abbr = tenant.abbr or _abbr_chosen_by_current_run(session, tenant_id)
    return TenantHeader(
        id=tenant.id, name=tenant.name, company_name=tenant.company_name, abbr=abbr,
        country=tenant.country, currency=tenant.currency, admin_email=tenant.admin_email,
        stores=tenant.stores, status=tenant.status, last_error=tenant.last_error, engine_id=tenant.engine_id,
        engine_name=engine.name if engine else '?',
        created_by=tenant.created_by, created_at=tenant.created_at, drifted=tenant.drifted,
        drift_detail=tenant.drift_detail, drift_checked_at=tenant.drift_checked_at)


def run_history(db: Database, tenant_id: int, *, limit: int = 20, offset: int = 0) -> RunHistory:
    """The tenant's runs newest first (plans included), one page at a time."""
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInput('limit', f'must be between 1 and {MAX_HISTORY}')
    if not 0 <= offset <= MAX_ID:
        raise InvalidInput('offset', 'must be 0 or more')
    with db.session() as session:
        rows = list(run_queries.runs_for_tenant(session, tenant_id, limit=offset + limit + 1))
    page = rows[offset:offset + limit]
    return RunHistory(items=[_summary(run) for run in page], has_more=len(rows) > offset + limit)


def created_documents(db: Database, tenant_id: int) -> list[DocumentLink]:
    """The ERPNext documents the tenant's provisioning runs created or use, in workflow order."""
    with db.session() as session:
        tenant = tenant_in(session, tenant_id)
        engine = session.get(Engine, tenant.engine_id)
        runs = [run for run in run_queries.runs_for_tenant(session, tenant_id, limit=MAX_RUNS_SCANNED)
                if run.mode == RunMode.PROVISION]
        outputs = _newest_outputs(session, runs)
        intents = run_queries.intents_of_tenant(session, tenant_id)
        teardown = _teardown_outputs(session, tenant)
    running = bool(runs) and runs[0].status == RunStatus.RUNNING
    documents = documents_from(outputs, intents, engine.base_url if engine else '', running=running)
    return with_fates(documents, teardown) if teardown is not None else documents


def with_fates(documents: list[DocumentLink], teardown: dict[str, dict[str, Any]]) -> list[DocumentLink]:
    """The documents as a teardown that succeeded left them (`teardown`: its outputs by step key):
    deleted, deleted with the company, already gone (ERPNext no longer had it: nothing was deleted),
    kept (and why), or only this company's row removed (or found gone already)."""
    fates: dict[tuple[str, str], str] = {}
    for key, output in teardown.items():
        doctype = TEARDOWN_DOCTYPES.get(key)
        for name in _texts(output.get('deleted')):
            fates[doctype, name] = DELETED
        for name in _texts(output.get('already_gone')):
            fates[doctype, name] = ALREADY_GONE
        for name in _texts(output.get('user_permissions_deleted')):
            fates['User Permission', name] = DELETED
        for name in _texts(output.get('rows_removed')):
            fates.setdefault((doctype, name), "shared: the teardown removed this company's row")
        still = ', '.join(_texts(output.get('still_admin_of')))
        for name in _texts(output.get('kept')):
            fates[doctype, name] = f'kept in ERPNext: still the admin of {still}' if still else 'kept in ERPNext'
    company = teardown.get('delete_company') or {}
    went_with_company = ('deleted with the company' if _texts(company.get('deleted'))
                         else 'already gone with the company' if _texts(company.get('already_gone')) else None)
    went_with_user = _went_with_user(documents, fates)
    # The payment-mode step looked up every row of the company: a configured mode it found no row in
    # (the mode gone, or only this company's row) had lost that row before the teardown.
    rows_looked_up = 'rows_removed' in (teardown.get('release_payment_modes') or {})  # none: marked done by hand
    result = []
    for doc in documents:
        fate = fates.get((doc.doctype, doc.name))
        if fate is None and went_with_company and doc.doctype in GO_WITH_COMPANY:
            fate = went_with_company
        if fate is None and went_with_user and doc.doctype == 'User Permission':
            fate = went_with_user
        if fate is None and rows_looked_up and doc.doctype == 'Mode of Payment':
            fate = ROW_ALREADY_GONE
        result.append(replace(doc, fate=fate or ('left in ERPNext' if doc.created
                                                 else "left in ERPNext (not this tenant's to delete)")))
    return result


def audit_trail(db: Database, tenant_id: int, *, limit: int = 10, offset: int = 0) -> Page[AuditEntry]:
    """The tenant's audit events newest first, details as stored but for the engine's name in place of its id."""
    page = audit.list_events(db, tenant_id=tenant_id, limit=limit, offset=offset)
    engines = names.engine_names(db) if any('engine_id' in (event.details or {}) for event in page.items) else {}
    return Page(items=[_entry(event, engines) for event in page.items], total=page.total)


def plan_report(run: dict[str, Any]) -> list[PlannedStep]:
    """Per step of a plan run (a `runs.run_detail` dict): what exists and what would be created."""
    report = []
    for step in run.get('steps', []):
        output = step.get('output') or {}
        enable = _texts(output.get('enable'))
        note = str(output['note']) if output.get('note') else None
        if enable and note == ENABLE_NOTE + ', '.join(enable):
            note = None  # it only repeats `enable`, which the report lists
        report.append(PlannedStep(key=step['key'], title=step['title'], status=step['status'],
                                  exists=_texts(output.get('exists')), create=_texts(output.get('create')),
                                  enable=enable, note=note, error=step.get('error')))
    return report


def desk_url(base_url: str, doctype: str, name: str) -> str:
    """ERPNext's desk page of a document: /app/<doctype-slug>/<name>."""
    slug = doctype.strip().lower().replace(' ', '-')
    return f"{base_url.rstrip('/')}/app/{quote(slug)}/{quote(name, safe='')}"


def documents_from(outputs: dict[str, dict[str, Any]], intents: dict[str, list[str]],
                   base_url: str, *, running: bool = False) -> list[DocumentLink]:
    """Documents named by step outputs (in workflow order), then intents no output names: being
    created while the tenant's run is `running`, or recorded by a step that did not finish."""
    unfinished = IN_FLIGHT if running else NOT_FINISHED
    documents: dict[tuple[str, str], DocumentLink] = {}
    for step in STEPS:
        for doctype, name, note in _named_by(step.key, outputs.get(step.key) or {}):
            known = documents.get((doctype, name))
            if known is not None:  # e.g. one ledger serving as both expense and write-off account
                documents[doctype, name] = replace(known, note=f'{known.note}, {note}')
            else:
                documents[doctype, name] = _link(base_url, doctype, name, step.key, note,
                                                 created=_ours(intents, doctype, name))
    for doctype, names in intents.items():
        if doctype in UNNAMED_DOCTYPES:
            continue
        for name in names:
            if (doctype, name) not in documents:
                documents[doctype, name] = replace(_link(base_url, doctype, name, '', unfinished[0], created=True),
                                                   pending=unfinished[1])
    return list(documents.values())


# -- which documents each step's output names --------------------------------------------------------

Named = Iterable[tuple[str, str, str]]  # (doctype, name, note)
UNNAMED_DOCTYPES = {'User Permission'}  # ERPNext names these by a hash: the intent holds a description
UNFINISHED_NOTE = 'creation recorded, but its step did not finish: it may not exist'
NOT_FINISHED = (UNFINISHED_NOTE, 'Provisioner\'s, if it exists')  # (note, where it comes from)
IN_FLIGHT = ('its step is creating it now', 'being created by Provisioner')
TEARDOWN_DOCTYPES = {step.key: step.doctype for step in TEARDOWN_STEPS}  # what each deletes
DELETED = 'deleted by the teardown'
ALREADY_GONE = 'already gone before the teardown'  # a teardown step's `already_gone`: ERPNext had no such document
ROW_ALREADY_GONE = "shared: this company's row was already gone before the teardown"


def _company(out: dict[str, Any]) -> Named:
    yield 'Company', out.get('company'), f"abbreviation {out.get('abbr')}"


def _accounts(out: dict[str, Any]) -> Named:
    for purpose, name in _mapping(out.get('accounts')).items():
        yield 'Account', name, f"{purpose.replace('_', '-')} account"


def _cost_center(out: dict[str, Any]) -> Named:
    yield 'Cost Center', out.get('cost_center'), 'main cost center'


def _warehouses(out: dict[str, Any]) -> Named:
    for number, name in enumerate(_texts(out.get('warehouses')), start=1):
        yield 'Warehouse', name, f'store {number}'


def _payment_modes(out: dict[str, Any]) -> Named:
    for mode, account in _mapping(out.get('modes')).items():
        yield 'Mode of Payment', mode, f"shared; this company's row uses {account}"


def _price_list(out: dict[str, Any]) -> Named:
    yield 'Price List', out.get('price_list'), 'selling'


def _customer(out: dict[str, Any]) -> Named:
    yield 'Customer', out.get('customer'), 'walk-in customer'


def _pos_profiles(out: dict[str, Any]) -> Named:
    for number, name in enumerate(_texts(out.get('profiles')), start=1):
        yield 'POS Profile', name, f'store {number}'


def _tenant_admin(out: dict[str, Any]) -> Named:
    """The admin's user; one shared with other tenants (the same e-mail) says whose admin it is too."""
    others = _texts(out.get('also_admin_of'))
    shared = (f"; also the admin of {', '.join(others)}" if others
              else ' (shared with other tenants)' if out.get('user_shared') else '')
    yield 'User', out.get('user'), f'tenant admin{shared}'
    if out.get('user_permission') not in (None, '', 'exists'):
        yield 'User Permission', out.get('user_permission'), 'restricts the admin to the company'


DOCUMENTS_BY_STEP: dict[str, Callable[[dict[str, Any]], Named]] = {
    'check_engine': lambda out: (),
    'create_company': _company,
    'resolve_accounts': _accounts,
    'ensure_cost_center': _cost_center,
    'create_warehouses': _warehouses,
    'configure_payment_modes': _payment_modes,
    'create_price_list': _price_list,
    'create_walkin_customer': _customer,
    'create_pos_profiles': _pos_profiles,
    'invite_tenant_admin': _tenant_admin,
    'verify_provisioning': lambda out: (),  # reads back what the others named
}


# -- helpers -----------------------------------------------------------------------------------------

def _named_by(step_key: str, output: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The (doctype, name, note) an output names; malformed entries are left out, not fatal."""
    extract = DOCUMENTS_BY_STEP.get(step_key)
    if extract is None or not isinstance(output, dict):
        return []
    return [(doctype, name, note) for doctype, name, note in extract(output)
            if isinstance(name, str) and name]


def _went_with_user(documents: list[DocumentLink], fates: dict[tuple[str, str], str]) -> str | None:
    """The admin's User Permission goes with the admin's user (ERPNext's User.on_trash deletes them)."""
    user = next((fates.get(('User', doc.name)) for doc in documents if doc.doctype == 'User'), None)
    return {DELETED: 'deleted with the user', ALREADY_GONE: 'already gone with the user'}.get(user)


def _teardown_outputs(session, tenant: Tenant) -> dict[str, dict[str, Any]] | None:
    """The step outputs of the teardown that deprovisioned the tenant (None while it is not)."""
    if tenant.status != TenantStatus.DEPROVISIONED:
        return None
    for run in run_queries.runs_for_tenant(session, tenant.id, limit=MAX_RUNS_SCANNED):
        if run.mode == RunMode.DEPROVISION and run.status == RunStatus.SUCCEEDED:
            return {step.step_key: step.output or {} for step in run_queries.steps_of_run(session, run.id)}
    return None


def _newest_outputs(session, runs: list[Run]) -> dict[str, dict[str, Any]]:
    """Each step's output from the newest run (newest first in `runs`) where it succeeded with one."""
    outputs: dict[str, dict[str, Any]] = {}
    for run in runs:
        for step in run_queries.steps_of_run(session, run.id):
            if step.step_key not in outputs and step.status == StepStatus.SUCCEEDED and step.output:
                outputs[step.step_key] = step.output
        if len(outputs) == len(STEPS):
            break
    return outputs


def _abbr_chosen_by_current_run(session, tenant_id: int) -> str | None:
    """The abbreviation the current run's company step chose: the tenant records it only when the run
    ends, and the page shows it as soon as the step succeeded."""
    run = run_queries.current_run_for_tenant(session, tenant_id)
    step = run_queries.step_of_run(session, run.id, 'create_company') if run else None
    if step is None or step.status != StepStatus.SUCCEEDED or not isinstance(step.output, dict):
        return None
    abbr = step.output.get('abbr')
    return abbr if isinstance(abbr, str) and abbr else None


def _ours(intents: dict[str, list[str]], doctype: str, name: str) -> bool:
    if doctype in UNNAMED_DOCTYPES:  # the intent describes it: any intent of that doctype is this one
        return bool(intents.get(doctype))
    return name in intents.get(doctype, [])


def _link(base_url: str, doctype: str, name: str, step_key: str, note: str, *, created: bool) -> DocumentLink:
    return DocumentLink(doctype=doctype, name=name, step_key=step_key, created=created, note=note,
                        step_title=STEP_TITLES.get(step_key, ''), url=desk_url(base_url, doctype, name))


def _summary(run: Run) -> RunSummary:
    ended = run.finished_at and run.started_at
    duration = (run.finished_at - run.started_at).total_seconds() if ended else None
    return RunSummary(id=run.id, mode=run.mode, status=run.status, trigger=run.trigger, attempt=run.attempt,
                      requested_by=run.requested_by, retried_by=(run.meta or {}).get(run_meta.RETRIED_BY),
                      queued_at=run.queued_at, started_at=run.started_at,
                      finished_at=run.finished_at, duration_s=duration, warnings=run.warnings,
                      error_step=run.error_step, error_category=run.error_category,
                      error_message=run.error_message, repair=bool((run.meta or {}).get(run_meta.REPAIR)))


def _entry(event, engines: dict[int, str]) -> AuditEntry:
    return AuditEntry(id=event.id, at=event.at, actor=event.actor, action=event.action, run_id=event.run_id,
                      step_key=event.step_key,
                      details=names.with_engine_name(event.details, engines),
                      correlation_id=event.correlation_id)


def _texts(value: Any) -> list[str]:
    return [str(item) for item in value if item is not None] if isinstance(value, list) else []


def _mapping(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(key): item for key, item in value.items() if isinstance(item, str) and item}
