"""Step 10: the tenant admin's ERPNext user, restricted to the tenant's company."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import NonCriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import REFUSALS, claim, create_document, withdraw_refused

THROTTLED = 'Throttled'  # ERPNext's answer past its hourly limit of new users (frappe User.throttle_user_creation)
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
        if existing is not None:
            if not (existing['name'] == user and ctx.ours('User', user)):
                raise _not_ours(ctx, existing['name'])
            await claim(ctx, 'User', existing, critical=False)
        created = existing is None
        if created:
            await _create_user(ctx, user)
        permission = await _ensure_permission(ctx, user, permissions)
        return {'user': user, 'created': created, 'user_permission': permission}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        found = await ctx.erp.find_doc('User', user)
        return {'user': user, 'exists': [f'User {user}'] if found else [],
                'create': [] if found else [f'User {user}', f'User Permission {user} → {ctx.company}']}


def _not_ours(ctx: StepContext, user: str) -> NonCriticalProvisioningError:
    return NonCriticalProvisioningError(
        f"ERPNext user '{user}' already exists and was not created by Provisioner for this tenant, so it was left "
        f"as it is. If it should only see company '{ctx.company}', add a User Permission (Allow: Company, Value: "
        "the company) for it in ERPNext.")


async def _create_user(ctx: StepContext, user: str) -> None:
    doc = {'email': ctx.tenant.admin_email.strip(), 'first_name': _first_name(user), 'send_welcome_email': 1,
           'roles': [{'role': role} for role in ROLES]}
    try:
        await create_document(ctx, 'User', user, doc, critical=False)
    except erp.ValidationError as exc:
        if exc.message.strip().rstrip('.') == THROTTLED:
            raise NonCriticalProvisioningError(
                f"ERPNext refused to create user '{user}' for now: it creates at most `throttle_user_limit` users "
                "an hour (60 unless the site says otherwise) and that many were created in the last hour. Retry "
                "'Invite tenant admin' later, or raise throttle_user_limit in the site's site_config.json.") from exc
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
    intent = f'{user} → Company {ctx.company}'  # ERPNext names it by a random hash
    ours_before = ctx.ours('User Permission', intent)
    await ctx.record_intent('User Permission', intent)
    try:
        saved = await ctx.insert('User Permission', {'user': user, 'allow': 'Company', 'for_value': ctx.company})
    except erp.DuplicateError:
        return 'exists'
    except REFUSALS:
        await withdraw_refused(ctx, 'User Permission', intent, ours_before)
        raise
    return saved['name']


def _first_name(user: str) -> str:
    local = user.split('@', 1)[0].replace('.', ' ').replace('_', ' ').strip()
    return local.title()[:140] or 'Admin'
