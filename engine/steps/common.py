"""Helpers the steps share: create-if-missing with write-ahead intent, batched look-ups by name,
and conflict messages.

Names are matched as ERPNext compares them (`fold`: case and accents aside, see
engine/erpnext/collation.py), and a document is adopted only when its exact name is one this
tenant recorded the intent to create before this attempt and ERPNext's `owner` of it is the user
our API key acts as: "GLOBEX LTD", made by hand, is never taken for the "Globex Ltd" we were about
to create, a duplicate answer to our own insert is ours only if an earlier attempt of ours may have
made it, and a document somebody made under our name after an insert whose answer was lost (a 503,
a timeout) is theirs. A step a person marked done takes what it finds (they vouched for it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from engine.erpnext import errors as erp
from engine.erpnext.client import Saved
from engine.erpnext.collation import fold
from engine.errors import (
    CriticalProvisioningError,
    NonCriticalProvisioningError,
    ProvisioningError,
    TransientProvisioningError,
)
from engine.steps.base import StepContext

# ERPNext answered an insert with a refusal: its transaction was rolled back, nothing was created.
REFUSALS = (erp.AuthError, erp.NotFoundError, erp.ValidationError)


def conflict(ctx: StepContext, doctype: str, name: str, *, critical: bool = True) -> ProvisioningError:
    """A document we need to create exists already and is not ours."""
    cls = CriticalProvisioningError if critical else NonCriticalProvisioningError
    return cls(f"{doctype} '{name}' already exists in ERPNext but was not created by Provisioner for tenant "
               f"'{ctx.tenant.name}' (ERPNext compares names without case or accents). Rename or delete it in "
               f"ERPNext, then {next_step(ctx)}.")


def made_by_someone_else(ctx: StepContext, doctype: str, name: str, owner: str | None, user: str, *,
                         critical: bool = True) -> ProvisioningError:
    """A document under a name we recorded (an insert whose answer was lost) that another user made."""
    cls = CriticalProvisioningError if critical else NonCriticalProvisioningError
    return cls(f"{doctype} '{name}' exists in ERPNext but was created by {owner or 'an unknown user'}, not by "
               f"Provisioner's API user {user}, so it is not taken for tenant '{ctx.tenant.name}' (an earlier "
               f"attempt to create it got no answer). Rename or delete it in ERPNext, then {next_step(ctx)}.")


def next_step(ctx: StepContext) -> str:
    """What to do once the problem is fixed in ERPNext: a run retries the step; a plan's steps cannot
    be retried (a 409), so a plan's advice is a new plan, or the provisioning run itself."""
    return retry_advice(ctx, None)


def retry_advice(ctx: StepContext, title: str | None) -> str:
    """`next_step` naming the step to retry ("retry 'Resolve accounts'"), or 'retry this step' without
    a title; for a plan, a new plan instead."""
    if ctx.plan:
        return PLAN_AGAIN
    return f"retry '{title}'" if title else 'retry this step'


PLAN_AGAIN = 'ask for a new plan (or provision)'


async def require_ours(ctx: StepContext, doctype: str, doc: dict[str, Any], *, name: str | None = None,
                critical: bool = True) -> None:
    """Raise unless `doc`, which ERPNext showed (with its `owner`), is the tenant's: `name` (default:
    the document's own) is one the tenant's runs recorded the intent to create, and our API user
    created it; or a person vouched for what this step finds by marking it done."""
    if ctx.vouched:
        return
    name = name or doc['name']
    if not ctx.ours(doctype, name):
        raise conflict(ctx, doctype, doc['name'], critical=critical)
    await _require_our_user(ctx, doctype, name, doc, critical=critical)


async def _require_our_user(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any], *,
                            critical: bool) -> None:
    """Somebody else's document holds the name we recorded, so nothing of ours does: the intent is
    taken back (deprovisioning must not delete it) and the step fails saying whose it is."""
    user = await ctx.api_user()
    if doc.get('owner') == user:
        return
    if not ctx.plan:
        await ctx.withdraw_intents(doctype, [name])
    raise made_by_someone_else(ctx, doctype, doc['name'], doc.get('owner'), user, critical=critical)


async def ensure_document(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any],
                          existing: dict[str, Any] | None, *, critical: bool = True) -> tuple[dict[str, Any], bool]:
    """Adopt `existing` when it is ours, or create `doc` (intent first). Returns (document, created)."""
    [result] = await ensure_documents(ctx, doctype, {name: doc}, {existing['name']: existing} if existing else {},
                                      critical=critical)
    return result


async def ensure_documents(ctx: StepContext, doctype: str, docs: dict[str, dict[str, Any]],
                           existing: dict[str, dict[str, Any]], *,
                           critical: bool = True) -> list[tuple[dict[str, Any], bool]]:
    """`ensure_document` for a batch: adopt ours, refuse others', record every intent in one save,
    then create the missing documents at the same time. `existing`: the rows ERPNext answered, by
    name. Results follow the order of `docs`."""
    found = {fold(row['name']): row for row in existing.values()}
    for name in docs:
        row = found.get(fold(name))
        if row is not None:
            await require_ours(ctx, doctype, row, critical=critical)
    missing = [name for name in docs if fold(name) not in found]
    ours_before = {name: ctx.ours(doctype, name) for name in missing}
    if missing:
        await ctx.record_intents(doctype, missing)
    answers = await asyncio.gather(*(_create(ctx, doctype, name, docs[name], ours_before[name], critical=critical)
                                     for name in missing))
    created = {name: (saved.doc, was_created) for name, (saved, was_created) in zip(missing, answers, strict=True)}
    return [created[name] if name in created else (found[fold(name)], False) for name in docs]


async def create_document(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any], *,
                          critical: bool = True) -> tuple[dict[str, Any], bool]:
    """Create `doc`, which ERPNext will name `name`, under a write-ahead intent recorded first.
    Returns (document, created): a duplicate answer is ours only as `adopt_duplicate` says; a refusal
    takes back the intent this attempt recorded, and is raised."""
    saved, created = await create_document_with_notes(ctx, doctype, name, doc, critical=critical)
    return saved.doc, created


async def create_document_with_notes(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any], *,
                                     critical: bool = True) -> tuple[Saved, bool]:
    """`create_document`, with the notes ERPNext sent along with the insert (none when an earlier
    attempt's document was adopted)."""
    ours_before = ctx.ours(doctype, name)
    await ctx.record_intent(doctype, name)
    return await _create(ctx, doctype, name, doc, ours_before, critical=critical)


async def _create(ctx: StepContext, doctype: str, name: str, doc: dict[str, Any], ours_before: bool, *,
                  critical: bool) -> tuple[Saved, bool]:
    try:
        return await ctx.insert(doctype, doc, name=name), True
    except erp.DuplicateError:
        return Saved(await adopt_duplicate(ctx, doctype, name, ours_before, critical=critical)), False
    except REFUSALS:
        await withdraw_refused(ctx, doctype, name, ours_before)
        raise


async def withdraw_refused(ctx: StepContext, doctype: str, name: str, ours_before: bool) -> None:
    """ERPNext refused to create `name`: the intent this attempt recorded is taken back, so that
    deprovisioning never deletes a document somebody makes under that name later. (An intent an
    earlier attempt recorded stays: that attempt's insert may have gone through.)"""
    if not ours_before:
        await ctx.withdraw_intents(doctype, [name])


async def adopt_duplicate(ctx: StepContext, doctype: str, name: str, ours_before: bool, *,
                          critical: bool = True) -> dict[str, Any]:
    """ERPNext refused to create `name` as a duplicate. It is ours when an earlier attempt of ours
    recorded the intent (its answer was lost), the stored name is exactly ours and our API user
    created it; otherwise somebody else made it since our look-up, or under another case, and the
    intent is taken back. ERPNext answering "duplicate" for a document it then does not have (deleted
    meanwhile, or a duplicate answer it did not mean) is a temporary problem: the step runs again."""
    try:
        doc = await ctx.get_doc(doctype, name)
    except erp.NotFoundError:
        await withdraw_refused(ctx, doctype, name, ours_before)
        raise TransientProvisioningError(
            f"ERPNext answered that {doctype} '{name}' already exists, but has no such document: a temporary "
            'problem in ERPNext (nothing was created). Retrying is safe.') from None
    if not (ours_before and doc['name'] == name):
        await withdraw_refused(ctx, doctype, name, ours_before)
        raise conflict(ctx, doctype, doc['name'], critical=critical)
    await _require_our_user(ctx, doctype, name, doc, critical=critical)
    return doc


async def enable_ours(ctx: StepContext, doctype: str,
                     saved: list[tuple[dict[str, Any], bool]]) -> list[tuple[dict[str, Any], bool]]:
    """Documents `ensure_documents` adopted as ours but somebody disabled in ERPNext are enabled again
    (a repair puts back what the tenant needs); the others are left as they are."""
    async def enabled(doc: dict[str, Any]) -> dict[str, Any]:
        return await ctx.update(doctype, doc['name'], {'disabled': 0}) if doc.get('disabled') else doc
    docs = await asyncio.gather(*(enabled(doc) for doc, _ in saved))
    return [(doc, created) for doc, (_, created) in zip(docs, saved, strict=True)]


def plan_enable(doctype: str, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A plan's words for the documents `enable_ours` would enable again (the rows found that are
    disabled): `enable` lists them, as `create` lists what a run would create, and a `note` says so."""
    names = [f"{doctype} {row['name']}" for row in rows if row.get('disabled')]
    if not names:
        return {'enable': []}
    return {'enable': names, 'note': f"would enable again (disabled in ERPNext): {', '.join(names)}"}


def plan_stays_disabled(doctype: str, names: Iterable[str], *, fails: str = 'Verify provisioning') -> dict[str, Any]:
    """A plan's note on disabled documents a run needs as they are (no step enables them): the
    step `fails` would fail on them."""
    found = [f'{doctype} {name}' for name in names]
    if not found:
        return {}
    it = 'it' if len(found) == 1 else 'them'
    return {'note': f"disabled in ERPNext, and no step enables {it}: {', '.join(found)}. Enable {it} there, or "
                    f"'{fails}' fails."}


async def rows_by_name(ctx: StepContext, doctype: str, names: Iterable[str], fields: list[str]) -> dict[str, dict]:
    """`fields` of the named documents: what this execution already saw, the rest in one `in` look-up
    (matched to the names asked for as ERPNext compares them)."""
    wanted = list(dict.fromkeys(names))
    rows = {name: row for name in wanted if (row := ctx.seen.row(doctype, name, fields)) is not None}
    unseen = [name for name in wanted if name not in rows]
    if unseen:
        found = {fold(row['name']): row for row in await ctx.get_list(doctype, fields=fields,
                                                                       filters=[['name', 'in', unseen]])}
        rows.update({name: found[fold(name)] for name in unseen if fold(name) in found})
    return rows


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row['name']: row for row in rows}
