"""Teardown 1: the tenant admin's User Permission and, if we created it, the ERPNext user."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.steps.base import Step, StepContext
from engine.teardown.common import delete_recorded, our_company, refused


class RemoveTenantAdmin(Step):
    key = 'remove_tenant_admin'
    title = 'Remove tenant admin'
    critical = True

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        company = our_company(ctx)
        permissions: list[str] = []
        if company and ctx.recorded('User Permission'):
            rows = await ctx.erp.get_list('User Permission', filters=[
                ['user', '=', user], ['allow', '=', 'Company'], ['for_value', '=', company]])
            for row in rows:
                try:
                    await ctx.erp.delete('User Permission', row['name'])
                except erp.NotFoundError:
                    continue
                except erp.ValidationError as exc:
                    raise refused('User Permission', row['name'], exc, self.title) from exc
                permissions.append(row['name'])
        users = [name for name in ctx.recorded('User') if name == user]
        result = await delete_recorded(ctx, 'User', users, retry_title=self.title)
        return {'user_permissions_deleted': permissions, **result}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        delete = [f'User Permission {user} → {our_company(ctx)}'] if ctx.recorded('User Permission') else []
        delete += [f'User {name}' for name in ctx.recorded('User') if name == user]
        return {'delete': delete}
