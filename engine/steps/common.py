"""Helpers the steps share: create-if-missing with write-ahead intent, and conflict messages."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError, NonCriticalProvisioningError, ProvisioningError
from engine.steps.base import StepContext


def conflict(ctx: StepContext, doctype: str, name: str, *, critical: bool = True) -> ProvisioningError:
    """A document we need to create exists already and is not ours."""
    cls = CriticalProvisioningError if critical else NonCriticalProvisioningError
    return cls(f"{doctype} '{name}' already exists in ERPNext but was not created by Provisioner for tenant "
               f"'{ctx.tenant.name}'. Rename or delete it in ERPNext, or mark this step succeeded by hand if "
               "it is the right one, then retry.")


async def ensure_document(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any],
                          existing: dict[str, Any] | None, *, critical: bool = True) -> tuple[dict[str, Any], bool]:
    """Adopt `existing` when it is ours, or create `doc` (intent first). Returns (document, created)."""
    if existing is not None:
        if ctx.ours(doctype, name):
            return existing, False
        raise conflict(ctx, doctype, name, critical=critical)
    await ctx.record_intent(doctype, name)
    try:
        return await ctx.erp.insert(doctype, doc), True
    except erp.DuplicateError:
        # Our earlier attempt created it but its answer was lost: the intent says it is ours.
        return await ctx.erp.get_doc(doctype, name), False


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row['name']: row for row in rows}
