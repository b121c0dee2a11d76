"""What every provisioning step shares: its declaration and the context it works in.

A step is a small class: `key`, `title`, `critical`, the steps it `needs` (their outputs must
exist) and those it runs `after` when they succeed (soft needs), plus `run(ctx)` that makes
something exist in ERPNext and `plan(ctx)` that only looks. Steps never touch the database,
settings or retries: they read and write ERPNext through `ctx.erp` and raise provisioning errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.erpnext import ERPNextClient
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
    """Base class of the provisioning steps (see engine/steps/__init__.py for the order)."""

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


class IntentLog:
    """The names this tenant's runs decided to create, persisted before each creation.

    On a retry, a document whose name is here is ours and is adopted; one that is not is a
    conflict with somebody else's document."""

    def __init__(self, intents: dict[str, list[str]], save: SaveIntents) -> None:
        self.intents = intents
        self._save = save
        self._lock = asyncio.Lock()

    def ours(self, doctype: str, name: str) -> bool:
        return name in self.intents.get(doctype, [])

    async def record(self, doctype: str, name: str) -> None:
        async with self._lock:
            names = self.intents.setdefault(doctype, [])
            if name not in names:
                names.append(name)
                await self._save({key: list(value) for key, value in self.intents.items()})


class StepContext:
    """Everything a step may use: the tenant, the ERPNext client, the outputs of the steps it
    needs, and the write-ahead intent log. One context per step attempt; warnings are its own."""

    def __init__(self, *, tenant: TenantSpec, erp: ERPNextClient, outputs: dict[str, dict[str, Any]],
                 skipped: set[str], intents: IntentLog, plan: bool = False) -> None:
        self.tenant = tenant
        self.erp = erp
        self.outputs = outputs
        self.skipped = skipped
        self.plan = plan
        self.warnings: list[str] = []
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
        """True when this tenant's runs recorded the intent to create `doctype` `name`."""
        return self._intents.ours(doctype, name)

    async def record_intent(self, doctype: str, name: str) -> None:
        """Persist the name we are about to create *before* creating it (write-ahead intent)."""
        await self._intents.record(doctype, name)

    @property
    def abbr(self) -> str:
        return self.output('create_company')['abbr']

    @property
    def company(self) -> str:
        return self.output('create_company')['company']
