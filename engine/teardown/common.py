"""What the teardown steps share: delete only what this tenant's runs recorded creating and ERPNext
shows our API user created, treat "already gone" as done, and turn ERPNext's refusals into
messages an operator can act on."""

from __future__ import annotations

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError
from engine.steps.base import StepContext

# Documents that belong to a company: deleted only when ERPNext shows them in this tenant's company.
COMPANY_DOCTYPES = frozenset({'Account', 'Cost Center', 'Warehouse', 'POS Profile', 'User Permission'})
GO_WITH_COMPANY = frozenset({'Account', 'Cost Center', 'Warehouse'})  # Company.on_trash deletes them


def our_company(ctx: StepContext) -> str | None:
    """The Company this tenant's runs created, or None (then nothing of the company is ours)."""
    names = ctx.recorded('Company')
    return names[-1] if names else None


async def delete_recorded(ctx: StepContext, doctype: str, names: list[str], *, retry_title: str) -> dict[str, list]:
    """Delete each of `names` (newest first, so children go before their parents); a 404 means done."""
    deleted, gone = [], []
    for name in reversed(names):
        try:
            await ctx.erp.delete(doctype, name)
            deleted.append(name)
        except erp.NotFoundError:
            gone.append(name)
        except erp.ValidationError as exc:  # LinkExistsError and friends (417)
            raise refused(doctype, name, exc, retry_title) from exc
    return {'deleted': deleted, 'already_gone': gone}


async def ours_in_erpnext(ctx: StepContext, doctype: str,
                          names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """`names` split into those ERPNext shows as ours, those gone, and the others (kept, each with a
    warning). Ours: created by the user our API key acts as (a name recorded before an insert whose
    answer was lost may have been taken since by somebody else's document) and, for a document of
    the company, in this tenant's company. One look-up."""
    if not names:
        return [], [], []
    of_company = doctype in COMPANY_DOCTYPES
    company = our_company(ctx) if of_company else None
    if of_company and company is None:
        return [], [], list(names)
    fields = ['name', 'owner', 'company'] if of_company else ['name', 'owner']
    found = {row['name']: row for row in await ctx.erp.get_list(doctype, filters=[['name', 'in', names]],
                                                                fields=fields)}
    user = await ctx.api_user()
    ours, others = [], []
    for name in (name for name in names if name in found):
        why = _not_ours(doctype, found[name], company, user)
        if why is None:
            ours.append(name)
        else:
            ctx.warn(f"{doctype} '{name}' was left in ERPNext: {why}.")
            others.append(name)
    return ours, [name for name in names if name not in found], others


def _not_ours(doctype: str, row: dict, company: str | None, user: str) -> str | None:
    """Why a recorded document ERPNext shows is not ours to delete, or None when it is."""
    if company is not None and row.get('company') != company:
        return f"it belongs to company '{row.get('company')}', not to '{company}'"
    if row.get('owner') != user:
        also = ' (ERPNext deletes it with the company, if the company goes)' if doctype in GO_WITH_COMPANY else ''
        return f"it was created by {row.get('owner')}, not by Provisioner's API user {user}{also}"
    return None


def refused(doctype: str, name: str, exc: erp.ERPNextError, retry_title: str) -> CriticalProvisioningError:
    return CriticalProvisioningError(
        f"ERPNext refused to delete {doctype} '{name}': {exc.message}. Remove what still uses it in ERPNext "
        f"(or delete it by hand and mark this step succeeded), then retry '{retry_title}'.")
