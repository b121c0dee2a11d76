"""Step 10: the tenant admin's ERPNext user, restricted to the tenant's company."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import NonCriticalProvisioningError
from engine.steps.base import Step, StepContext

ROLES = ('Accounts Manager', 'Accounts User', 'Sales Manager', 'Sales User', 'Stock Manager', 'Stock User')


class InviteTenantAdmin(Step):
    """An ERPNext User for the admin e-mail, with a User Permission on the Company."""

    key = 'invite_tenant_admin'
    title = 'Invite tenant admin'
    critical = False
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        existing, permissions = await asyncio.gather(ctx.find_doc('User', user), _permissions(ctx, user))
        if existing is not None and not ctx.ours('User', user):
            raise NonCriticalProvisioningError(
                f"ERPNext user '{user}' already exists and was not created by Provisioner, so it was left as it "
                f"is. If it should only see company '{ctx.company}', add a User Permission (Allow: Company, "
                "Value: the company) for it in ERPNext.")
        created = existing is None
        if created:
            await ctx.record_intent('User', user)
            await _create_user(ctx, user)
        permission = await _ensure_permission(ctx, user, permissions)
        return {'user': user, 'created': created, 'user_permission': permission}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        found = await ctx.erp.find_doc('User', user)
        return {'user': user, 'exists': [f'User {user}'] if found else [],
                'create': [] if found else [f'User {user}', f'User Permission {user} → {ctx.company}']}


async def _create_user(ctx: StepContext, user: str) -> None:
    doc = {'email': ctx.tenant.admin_email.strip(), 'first_name': _first_name(user), 'send_welcome_email': 1,
           'roles': [{'role': role} for role in ROLES]}
    try:
        await ctx.insert('User', doc)
    except erp.DuplicateError:
        pass  # our earlier attempt created it; the intent is recorded
    except erp.ValidationError as exc:
        raise NonCriticalProvisioningError(
            f"ERPNext refused to create user '{user}': {exc.message}. Correct the tenant's admin e-mail or "
            "create the user in ERPNext, then retry 'Invite tenant admin'.") from exc


async def _permissions(ctx: StepContext, user: str) -> list[dict[str, Any]]:
    """The user's permissions on the company (none when the user does not exist yet)."""
    return await ctx.get_list('User Permission', filters=[
        ['user', '=', user], ['allow', '=', 'Company'], ['for_value', '=', ctx.company]])


async def _ensure_permission(ctx: StepContext, user: str, rows: list[dict[str, Any]]) -> str:
    if rows:
        return rows[0]['name']
    await ctx.record_intent('User Permission', f'{user} → Company {ctx.company}')  # named by a random hash
    try:
        saved = await ctx.insert('User Permission', {'user': user, 'allow': 'Company', 'for_value': ctx.company})
    except erp.DuplicateError:
        return 'exists'
    return saved['name']


def _first_name(user: str) -> str:
    local = user.split('@', 1)[0].replace('.', ' ').replace('_', ' ').strip()
    return local.title()[:140] or 'Admin'
