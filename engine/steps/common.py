"""Helpers the steps share: create-if-missing with write-ahead intent, batched look-ups by name,
and conflict messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
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
    [result] = await ensure_documents(ctx, doctype, {name: doc}, {name: existing} if existing else {},
                                      critical=critical)
    return result


async def ensure_documents(ctx: StepContext, doctype: str, docs: dict[str, dict[str, Any]],
                           existing: dict[str, dict[str, Any]], *,
                           critical: bool = True) -> list[tuple[dict[str, Any], bool]]:
    """`ensure_document` for a batch: adopt ours, refuse others', record every intent in one save,
    then create the missing documents at the same time. Results follow the order of `docs`."""
    for name in docs:
        if name in existing and not ctx.ours(doctype, name):
            raise conflict(ctx, doctype, name, critical=critical)
    missing = [name for name in docs if name not in existing]
    if missing:
        await ctx.record_intents(doctype, missing)
    answers = await asyncio.gather(*(_create(ctx, doctype, name, docs[name]) for name in missing))
    created = dict(zip(missing, answers, strict=True))
    return [created[name] if name in created else (existing[name], False) for name in docs]


async def _create(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    try:
        return await ctx.insert(doctype, doc), True
    except erp.DuplicateError:
        # Our earlier attempt created it but its answer was lost: the intent says it is ours.
        return await ctx.get_doc(doctype, name), False


async def rows_by_name(ctx: StepContext, doctype: str, names: Iterable[str], fields: list[str]) -> dict[str, dict]:
    """`fields` of the named documents: what this execution already saw, the rest in one `in` look-up."""
    wanted = list(dict.fromkeys(names))
    rows = {name: row for name in wanted if (row := ctx.seen.row(doctype, name, fields)) is not None}
    unseen = [name for name in wanted if name not in rows]
    if unseen:
        found = await ctx.get_list(doctype, fields=fields, filters=[['name', 'in', unseen]])
        rows.update(by_name(found))
    return rows


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row['name']: row for row in rows}
