"""What the teardown steps share: delete only what this tenant's runs recorded creating, treat
"already gone" as done, and turn ERPNext's refusals into messages an operator can act on."""

from __future__ import annotations

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError
from engine.steps.base import StepContext

# Documents that belong to a company: deleted only when ERPNext shows them in this tenant's company.
COMPANY_DOCTYPES = frozenset({'Account', 'Cost Center', 'Warehouse', 'POS Profile', 'User Permission'})


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


async def in_our_company(ctx: StepContext, doctype: str, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """`names` split into those ERPNext shows in our company, those gone, and the others (kept:
    a name recorded by a refused POST may have been taken since by another company's document)."""
    company = our_company(ctx)
    if not names:
        return [], [], []
    if company is None:
        return [], [], list(names)
    rows = await ctx.erp.get_list(doctype, filters=[['name', 'in', names]], fields=['name', 'company'])
    found = {row['name']: row.get('company') for row in rows}
    ours = [name for name in names if name in found and found[name] == company]
    others = [name for name in names if name in found and found[name] != company]
    for name in others:
        ctx.warn(f"{doctype} '{name}' was left in ERPNext: it belongs to company '{found[name]}', not to "
                 f"'{company}'.")
    return ours, [name for name in names if name not in found], others


def refused(doctype: str, name: str, exc: erp.ERPNextError, retry_title: str) -> CriticalProvisioningError:
    return CriticalProvisioningError(
        f"ERPNext refused to delete {doctype} '{name}': {exc.message}. Remove what still uses it in ERPNext "
        f"(or delete it by hand and mark this step succeeded), then retry '{retry_title}'.")
