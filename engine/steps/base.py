"""What every provisioning step shares: its declaration and the context it works in.

A step is a small class: `key`, `title`, `critical`, the steps it `needs` (their outputs must
exist) and those it runs `after` when they succeed (soft needs), plus `run(ctx)` that makes
something exist in ERPNext and `plan(ctx)` that only looks. Steps never touch the database,
settings or retries: they read and write ERPNext through `ctx.erp` and raise provisioning errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.erpnext import ERPNextClient
from engine.erpnext.client import Saved
from engine.errors import CriticalProvisioningError


@dataclass(frozen=True)
class TenantSpec:
    """The tenant as the steps see it."""

    id: int
    name: str
    company_name: str
    country: str
    currency: str
    admin_email: str
    stores: int
    abbr: str | None = None


class Step:
    """Base class of the provisioning steps (see engine/steps/__init__.py for the order) and of the
    teardown steps (engine/teardown/__init__.py)."""

    key: ClassVar[str]
    title: ClassVar[str]
    critical: ClassVar[bool] = True
    needs: ClassVar[tuple[str, ...]] = ()
    after: ClassVar[tuple[str, ...]] = ()

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedError

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedError


SaveIntents = Callable[[dict[str, list[str]]], Awaitable[None]]


class Observations:
    """What ERPNext answered during this execution of a run: look-up rows and saved documents.

    Kept in memory only, on purpose: verification trusts what ERPNext showed *this* execution
    (a written document's answer, a look-up's rows) and reads back everything else, so a resumed
    run or a retried step, whose earlier steps ran elsewhere, reads those documents again."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, dict[str, Any]]] = {}
        self._complete: dict[str, set[str]] = {}
        self.api_user: str | None = None  # the user the engine's API key acts as (`StepContext.api_user`)
        self.api_user_lock = asyncio.Lock()

    def record(self, doctype: str, rows: Iterable[dict[str, Any]], *, complete: bool = False) -> None:
        """`complete`: whole documents (a missing key means empty), not a look-up's chosen columns."""
        table = self._rows.setdefault(doctype, {})
        for row in rows:
            name = row.get('name')
            if isinstance(name, str):
                table[name] = {**table.get(name, {}), **row}
                if complete:
                    self._complete.setdefault(doctype, set()).add(name)

    def row(self, doctype: str, name: str, fields: Iterable[str] = ()) -> dict[str, Any] | None:
        """The row seen for `name` when it holds every field in `fields`, else None."""
        row = self._rows.get(doctype, {}).get(name)
        if row is None:
            return None
        if name in self._complete.get(doctype, set()) or all(field in row for field in fields):
            return row
        return None


class IntentLog:
    """The names this tenant's runs decided to create, persisted before each creation.

    On a retry, a document whose name is here is ours and is adopted; one that is not is a
    conflict with somebody else's document. One log per execution of a run, which also carries
    that execution's `Observations`."""

    def __init__(self, intents: dict[str, list[str]], save: SaveIntents) -> None:
        self.intents = intents
        self.seen = Observations()
        self._save = save
        self._lock = asyncio.Lock()
        self._version = self._saved = 0  # changes made to `intents` / the last change saved

    def ours(self, doctype: str, name: str) -> bool:
        return name in self.intents.get(doctype, [])

    async def record(self, doctype: str, name: str) -> None:
        await self.record_many(doctype, [name])

    async def record_many(self, doctype: str, names: Iterable[str]) -> None:
        """One save for several names (a step about to create a batch of documents); returns once
        they are stored. Steps recording at the same time share saves: whoever waits for the
        lock finds its names saved already when the save before it carried them."""
        known = self.intents.setdefault(doctype, [])
        new = [name for name in dict.fromkeys(names) if name not in known]
        if new:
            known.extend(new)
            self._version += 1
        await self._flush()

    async def withdraw(self, doctype: str, names: Iterable[str]) -> None:
        """ERPNext refused to create these (or they turned out to be somebody else's): they are not
        ours, and deprovisioning must never delete what may later be made under their names."""
        known = self.intents.get(doctype, [])
        gone = [name for name in dict.fromkeys(names) if name in known]
        if gone:
            self.intents[doctype] = [name for name in known if name not in gone]
            self._version += 1
        await self._flush()

    async def _flush(self) -> None:
        """Save the intents unless a save since the last change carried them already."""
        wanted = self._version
        async with self._lock:
            if self._saved < wanted:
                version = self._version
                await self._save({key: list(value) for key, value in self.intents.items() if value})
                self._saved = version


class StepContext:
    """Everything a step may use: the tenant, the ERPNext client, the outputs of the steps it
    needs, and the write-ahead intent log. One context per step attempt; warnings are its own."""

    def __init__(self, *, tenant: TenantSpec, erp: ERPNextClient, outputs: dict[str, dict[str, Any]],
                 skipped: set[str], intents: IntentLog, plan: bool = False,
                 before_write: Callable[[], Awaitable[None]] | None = None, vouched: bool = False) -> None:
        self.tenant = tenant
        self.vouched = vouched  # a person marked this step done: what it finds is the tenant's, it writes nothing
        self.before_write = before_write  # the runner's go-ahead for writes (see Runner._step)
        self.erp = erp
        self.outputs = outputs
        self.skipped = skipped
        self.plan = plan
        self.warnings: list[str] = []
        self.seen = intents.seen
        self._intents = intents

    def output(self, key: str) -> dict[str, Any]:
        """The output of a needed step; a clear critical error when it was skipped or is missing."""
        if self.outputs.get(key):
            return self.outputs[key]
        from engine.steps import STEP_TITLES  # the registry imports the steps, so look it up late

        title = STEP_TITLES.get(key, key)
        why = 'was skipped' if key in self.skipped else 'has no recorded output (was it marked done by hand?)'
        raise CriticalProvisioningError(
            f"This step needs what '{title}' finds, but '{title}' {why}: retry '{title}' instead.")

    def optional_output(self, key: str) -> dict[str, Any]:
        """The output of a soft need, or {} when it failed or was skipped."""
        return self.outputs.get(key) or {}

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def ours(self, doctype: str, name: str) -> bool:
        """True when this tenant's runs recorded the intent to create `doctype` `name` (or a person
        vouched for what this step finds by marking it done)."""
        return self.vouched or self._intents.ours(doctype, name)

    async def api_user(self) -> str:
        """The ERPNext user the engine's API key acts as: the `owner` ERPNext writes on every document
        Provisioner creates. What check_engine found in this run, else asked once per execution
        (a teardown run has no check_engine)."""
        async with self.seen.api_user_lock:
            if self.seen.api_user is None:
                found = (self.outputs.get('check_engine') or {}).get('user')
                self.seen.api_user = found or await self.erp.logged_user()
            return self.seen.api_user

    def recorded(self, doctype: str) -> list[str]:
        """The `doctype` names this tenant's runs recorded the intent to create (teardown reads them)."""
        return list(self._intents.intents.get(doctype, []))

    async def record_intent(self, doctype: str, name: str) -> None:
        """Persist the name we are about to create *before* creating it (write-ahead intent)."""
        await self.record_intents(doctype, [name])

    async def record_intents(self, doctype: str, names: Iterable[str]) -> None:
        """Write-ahead intent for a batch of documents, in one save."""
        if self.before_write is not None:
            await self.before_write()
        await self._intents.record_many(doctype, names)

    async def withdraw_intents(self, doctype: str, names: Iterable[str]) -> None:
        """Take back intents this attempt recorded for documents ERPNext did not create for us."""
        await self._intents.withdraw(doctype, names)

    # -- ERPNext calls whose answers verification may reuse ---------------------------------------

    async def get_list(self, doctype: str, **query: Any) -> list[dict[str, Any]]:
        rows = await self.erp.get_list(doctype, **query)
        self.seen.record(doctype, rows)
        return rows

    async def find_doc(self, doctype: str, name: str) -> dict[str, Any] | None:
        doc = await self.erp.find_doc(doctype, name)
        if doc is not None:
            self.seen.record(doctype, [doc], complete=True)
        return doc

    async def get_doc(self, doctype: str, name: str) -> dict[str, Any]:
        doc = await self.erp.get_doc(doctype, name)
        self.seen.record(doctype, [doc], complete=True)
        return doc

    async def insert(self, doctype: str, doc: dict[str, Any], *, name: str | None = None) -> Saved:
        saved = await self.erp.insert(doctype, doc, name=name)
        self.seen.record(doctype, [saved.doc], complete=True)
        return saved

    async def update(self, doctype: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        saved = await self.erp.update(doctype, name, changes)
        self.seen.record(doctype, [saved], complete=True)
        return saved

    @property
    def abbr(self) -> str:
        return self.output('create_company')['abbr']

    @property
    def company(self) -> str:
        return self.output('create_company')['company']
