"""What every teardown step shares: the DocType it deletes, and its preview.

A teardown step runs only as part of a deprovisioning run; it has no look-ups-only `plan()` (a
PLAN run previews provisioning). What a teardown *would* do is its `preview(record)`: read from
what the tenant's runs recorded, no ERPNext call, nothing written (engine/services/deprovision.py
asks every step of TEARDOWN_STEPS in order). By default a step deletes the recorded documents of
its `doctype`, newest first; a step with its own rules (the admin user shared by several tenants,
shared Modes of Payment, the company) overrides `preview`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.steps.base import Step, StepContext


@dataclass(frozen=True)
class TeardownRecord:
    """What the database says about a tenant about to be torn down: all a preview may read."""

    intents: dict[str, list[str]]  # the confirmed intents, by DocType (oldest first)
    admin: str  # the tenant admin's e-mail as ERPNext names users (lower-cased)
    admin_handed_over: bool = False  # the admin user another tenant's teardown kept for this one
    admin_holders: tuple[str, ...] = ()  # the other live tenants with the same admin (they keep the user)
    payment_modes: tuple[str, ...] = ()  # the Modes of Payment the company was configured on

    def recorded(self, doctype: str) -> list[str]:
        return list(self.intents.get(doctype, []))

    @property
    def company(self) -> str | None:
        """The Company this tenant's runs created (the newest name), or None."""
        names = self.recorded('Company')
        return names[-1] if names else None


@dataclass
class Preview:
    """One step's part of the deprovision preview (the items of the REST answer, as dicts)."""

    delete: list[dict[str, str]] = field(default_factory=list)
    change: list[dict[str, str]] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)


class TeardownStep(Step):
    """Base class of the steps in engine/teardown/."""

    doctype: ClassVar[str]  # what it deletes: what its output's deleted / already_gone / kept name

    @classmethod
    def preview(cls, record: TeardownRecord) -> Preview:
        """What this step would delete or change: its DocType's recorded names, newest first."""
        return Preview(delete=cls.deleting(record.recorded(cls.doctype)))

    @classmethod
    def deleting(cls, names: list[str], doctype: str | None = None) -> list[dict[str, str]]:
        """Preview items for deleting `names` (newest first, as the step deletes them)."""
        return [{'step': cls.key, 'doctype': doctype or cls.doctype, 'name': name} for name in reversed(names)]

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedError(f"'{self.title}' is a teardown step: see its preview(), not plan()")
