"""Teardown 1: the tenant admin's User Permission and, if we created it, the ERPNext user."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.steps.base import Step, StepContext
from engine.teardown.common import delete_recorded, our_company, ours_in_erpnext, refused


class RemoveTenantAdmin(Step):
    key = 'remove_tenant_admin'
    title = 'Remove tenant admin'
    critical = True

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        company = our_company(ctx)
        permissions = await _remove_permissions(ctx, user, company, self.title) if company else []
        ours, gone, kept = await ours_in_erpnext(ctx, 'User', [name for name in ctx.recorded('User') if name == user])
        result = await delete_recorded(ctx, 'User', ours, retry_title=self.title)
        return {'user_permissions_deleted': permissions, **result,
                'already_gone': [*result['already_gone'], *gone], 'kept': kept}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        delete = [f'User Permission {user} → {our_company(ctx)}'] if ctx.recorded('User Permission') else []
        delete += [f'User {name}' for name in ctx.recorded('User') if name == user]
        return {'delete': delete}


async def _remove_permissions(ctx: StepContext, user: str, company: str, title: str) -> list[str]:
    """The user's permissions on our company that our API user created (when we recorded making one)."""
    if not ctx.recorded('User Permission'):
        return []
    rows = await ctx.erp.get_list('User Permission', fields=['name', 'owner'], filters=[
        ['user', '=', user], ['allow', '=', 'Company'], ['for_value', '=', company]])
    api_user = await ctx.api_user() if rows else None
    removed = []
    for row in rows:
        if row.get('owner') != api_user:
            ctx.warn(f"User Permission '{row['name']}' ({user} → Company {company}) was left in ERPNext: it was "
                     f"created by {row.get('owner')}, not by Provisioner's API user {api_user}.")
            continue
        try:
            await ctx.erp.delete('User Permission', row['name'])
        except erp.NotFoundError:
            continue
        except erp.ValidationError as exc:
            raise refused('User Permission', row['name'], exc, title) from exc
        removed.append(row['name'])
    return removed
