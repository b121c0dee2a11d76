"""What the teardown steps share: delete only what this tenant's runs recorded creating, treat
"already gone" as done, and turn ERPNext's refusals into messages an operator can act on."""

from __future__ import annotations

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError
from engine.steps.base import StepContext


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


def refused(doctype: str, name: str, exc: erp.ERPNextError, retry_title: str) -> CriticalProvisioningError:
    return CriticalProvisioningError(
        f"ERPNext refused to delete {doctype} '{name}': {exc.message}. Remove what still uses it in ERPNext "
        f"(or delete it by hand and mark this step succeeded), then retry '{retry_title}'.")
