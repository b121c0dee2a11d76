"""What of a tenant its runs made (or may have made) in ERPNext, read from what they recorded: the
one answer that editing, deleting and deprovisioning a tenant share. No ERPNext call.

A run records the name of every document before it inserts it (its write-ahead intent), and a step
that adopts a document does so only under a recorded name. So a tenant whose runs recorded no name
and none of whose provisioning steps succeeded (other than the engine check, which writes nothing)
has nothing in ERPNext that Provisioner made or took as its own. A name recorded before an insert
whose answer never came counts as made: ERPNext may hold it. A step a person marked succeeded counts
as done: it means "ERPNext holds what this step makes".

A teardown that completed deleted what the runs before it made (and listed what it kept, which is
not ours): only the runs after the tenant's last completed teardown count. That such a teardown
happened is noted (`torn_down`): the engine keeps the record of those earlier documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import run_meta
from storage.tables import Run, RunMode, RunStatus, StepRun, StepStatus, Tenant

WRITES_NOTHING = frozenset({'check_engine', 'verify_provisioning'})
STORE_DOCTYPES = ('Warehouse', 'POS Profile')
STORE_STEPS = ('create_warehouses', 'create_pos_profiles')
# 'Store 3 - AR' (a warehouse) and 'AR Store 3' (a POS profile): the store's number
_STORE_NUMBER = re.compile(r'(?:^|\s)Store (\d+)(?:\s-\s|$)')


@dataclass(frozen=True)
class Done:
    """A provisioning step that succeeded: in which run, by hand or not, and what it reported."""

    run_id: int
    by_hand: bool
    output: dict[str, Any]


@dataclass(frozen=True)
class Footprint:
    """What the tenant's runs since its last completed teardown recorded: each name by DocType (with
    the run that recorded it first, confirmed or not), and each provisioning step that succeeded (its
    newest success); `torn_down`: a teardown of the tenant completed (before those runs)."""

    recorded: dict[str, dict[str, int]] = field(default_factory=dict)
    done: dict[str, Done] = field(default_factory=dict)
    torn_down: bool = False

    @property
    def anything(self) -> bool:
        """Did any run record a document, or any step that writes succeed?"""
        return bool(self.recorded) or any(key not in WRITES_NOTHING for key in self.done)

    def company(self) -> tuple[str, int] | None:
        """(the Company's name, the run that recorded or made it) once a run created or took it."""
        names = self.recorded.get('Company', {})
        if names:
            name, run_id = next(reversed(names.items()))
            return name, run_id
        step = self.done.get('create_company')
        if step is not None:
            return str(step.output.get('company') or ''), step.run_id
        return None

    def admin_invited(self) -> Done | None:
        """The invite step's newest success: the admin's ERPNext user exists (with its permission)."""
        return self.done.get('invite_tenant_admin')

    def store_documents(self) -> dict[int, list[str]]:
        """{store number: the names of its warehouse and POS profile on record}."""
        names: list[str] = [name for doctype in STORE_DOCTYPES for name in self.recorded.get(doctype, {})]
        names += [name for key in STORE_STEPS if key in self.done for name in _strings(self.done[key].output)]
        stores: dict[int, list[str]] = {}
        for name in dict.fromkeys(names):
            if match := _STORE_NUMBER.search(name):
                stores.setdefault(int(match.group(1)), []).append(name)
        return stores

    def stores_done_by_hand(self) -> bool:
        """A store step marked succeeded by hand: which stores ERPNext holds is not on record."""
        return any(self.done[key].by_hand for key in STORE_STEPS if key in self.done)


def footprint(session: Session, tenant: Tenant) -> Footprint:
    """What `tenant`'s runs after its last completed teardown recorded (plans record nothing: they
    only look)."""
    teardown = last_completed_teardown(session, tenant.id)
    since = col(Run.id) > (teardown or 0)
    runs = session.exec(select(Run.id, Run.meta).where(Run.tenant_id == tenant.id, Run.mode != RunMode.PLAN, since)
                        .order_by(col(Run.id))).all()
    recorded: dict[str, dict[str, int]] = {}
    for run_id, meta in runs:
        for key in (run_meta.INTENTS, run_meta.UNCONFIRMED):
            for doctype, names in ((meta or {}).get(key) or {}).items():
                for name in names:
                    recorded.setdefault(doctype, {}).setdefault(name, run_id)
    steps = session.exec(
        select(StepRun.step_key, StepRun.run_id, StepRun.manual_by, StepRun.output)
        .join(Run, col(Run.id) == col(StepRun.run_id))
        .where(Run.tenant_id == tenant.id, Run.mode == RunMode.PROVISION, since,
               StepRun.status == StepStatus.SUCCEEDED)
        .order_by(col(StepRun.run_id))).all()
    done = {key: Done(run_id, manual_by is not None, output or {}) for key, run_id, manual_by, output in steps}
    return Footprint(recorded={doctype: names for doctype, names in recorded.items() if names}, done=done,
                     torn_down=teardown is not None)


def last_completed_teardown(session: Session, tenant_id: int) -> int | None:
    """The id of the tenant's newest teardown run that succeeded, or None."""
    return session.exec(select(func.max(Run.id)).where(Run.tenant_id == tenant_id, Run.mode == RunMode.DEPROVISION,
                                                       Run.status == RunStatus.SUCCEEDED)).one()


def _strings(value: Any) -> Iterator[str]:
    """Every string in a step's output (its lists of names)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, Iterable):
        for item in value:
            yield from _strings(item)
