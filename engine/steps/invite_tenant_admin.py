"""Step 10: the tenant admin's ERPNext user, restricted to the tenant's company.

Several tenants may name the same admin e-mail. The first one creates the user (write-ahead intent);
the others find it with Provisioner's API user as its `owner` and only add their company's User
Permission to it: they record no intent for the user, so their teardown never deletes it. A user
somebody else made is left as it is (a warning). The teardown deletes the user only once no other
company's User Permission names it (engine/teardown/remove_tenant_admin.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import NonCriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import REFUSALS, create_document, create_document_with_notes, require_ours, withdraw_refused

THROTTLED = 'Throttled'  # ERPNext's answer past its hourly limit of new users (frappe User.throttle_user_creation)
# How a throttled invite's stored message reads (this wording and the one before it, which runs of older
# versions stored): engine/auto_retry.py recognises the failure by it and retries the step after a wait,
# because the runner records every failure of an optional step as 'non_critical', whatever its cause.
THROTTLE_MARK = 'creates at most `throttle_user_limit` users an hour'
THROTTLE_NOTE = 'ERPNext throttles new users'
# User.send_password_notification's alert (a 200: the user is made) when no outgoing Email Account exists:
# "Please setup default outgoing Email Account from Settings > Email Account" (older: "Tools > Email Account")
NO_EMAIL_ACCOUNT = 'outgoing email account'
ROLES = ('Accounts Manager', 'Accounts User', 'Sales Manager', 'Sales User', 'Stock Manager', 'Stock User')


class InviteTenantAdmin(Step):
    """An ERPNext User for the admin e-mail, with a User Permission on the Company."""

    key = 'invite_tenant_admin'
    title = 'Invite tenant admin'
    critical = False
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        existing, permissions = await asyncio.gather(ctx.find_doc('User', user), _company_permissions(ctx, user))
        shared = existing is not None and await _shared(ctx, user, existing)
        if existing is not None and not shared:
            await require_ours(ctx, 'User', existing, critical=False)
        created = existing is None
        if created:
            await _create_user(ctx, user)
        ours = [row for row in permissions if row.get('for_value') == ctx.company]
        permission = await _ensure_permission(ctx, user, ours)
        others = sorted({row['for_value'] for row in permissions if row.get('for_value') != ctx.company})
        return {'user': user, 'created': created, 'user_permission': permission,
                'user_shared': shared or bool(others), 'also_admin_of': others}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        found, permissions = await asyncio.gather(ctx.erp.find_doc('User', user), _company_permissions(ctx, user))
        permission = [] if any(row.get('for_value') == ctx.company for row in permissions) else [
            f'User Permission {user} → {ctx.company}']
        return {'user': user, 'exists': [f'User {user}'] if found else [],
                'create': permission if found else [f'User {user}', *permission]}


async def _shared(ctx: StepContext, user: str, existing: dict[str, Any]) -> bool:
    """True for a user Provisioner made for another tenant (this tenant only adds its permission);
    False for this tenant's own; a user somebody else made is refused with a warning."""
    if existing['name'] == user and ctx.ours('User', user):
        return False
    if existing['name'] == user and existing.get('owner') == await ctx.api_user():
        return True
    raise _not_ours(ctx, existing['name'])


def _not_ours(ctx: StepContext, user: str) -> NonCriticalProvisioningError:
    return NonCriticalProvisioningError(
        f"ERPNext user '{user}' already exists and was not created by Provisioner for this tenant, so it was left "
        f"as it is. If it should only see company '{ctx.company}', add a User Permission (Allow: Company, Value: "
        "the company) for it in ERPNext.")


async def _create_user(ctx: StepContext, user: str) -> None:
    doc = {'email': ctx.tenant.admin_email.strip(), 'first_name': _first_name(user), 'send_welcome_email': 1,
           'roles': [{'role': role} for role in ROLES]}
    try:
        saved, _ = await create_document_with_notes(ctx, 'User', user, doc, critical=False)
    except erp.OutgoingEmailError:
        await _without_welcome_email(ctx, user, doc)
        ctx.warn(_no_invitation(user))
        return
    except erp.ValidationError as exc:
        raise _refused(user, exc) from exc
    # English text: on a site whose API user reads another language the alert is not recognised,
    # and the run says nothing about the missing e-mail (the user is made all the same).
    if any(NO_EMAIL_ACCOUNT in text.lower() for text in saved.messages):
        ctx.warn(_no_invitation(user))


async def _without_welcome_email(ctx: StepContext, user: str, doc: dict[str, Any]) -> None:
    """ERPNext answered the insert with OutgoingEmailError (501). Frappe v15 catches that error inside
    the insert (a 200 with an alert, handled above), but a site whose hooks send mail outside that catch
    answers 501, with the user committed or rolled back: the user is adopted when it is ours, or made
    again without the welcome e-mail, so that no retry tries to send it again."""
    found = await ctx.find_doc('User', user)
    if found is not None:
        await require_ours(ctx, 'User', found, critical=False)
        return
    try:
        await create_document(ctx, 'User', user, {**doc, 'send_welcome_email': 0}, critical=False)
    except erp.ValidationError as exc:
        raise _refused(user, exc) from exc


def _refused(user: str, exc: erp.ValidationError) -> NonCriticalProvisioningError:
    if exc.message.strip().rstrip('.') == THROTTLED:
        return NonCriticalProvisioningError(
            f"{THROTTLE_NOTE}: it refused to create user '{user}' for now, as it {THROTTLE_MARK} (60 unless "
            "the site says otherwise) and that many were created in the last hour. Provisioner retries this step "
            "by itself once the hour has had time to pass (the run says when, while its automatic retries "
            "last); to let the users in sooner, raise throttle_user_limit in the site's site_config.json.")
    return NonCriticalProvisioningError(
        f"ERPNext refused to create user '{user}': {exc.message}. Correct the tenant's admin e-mail or "
        "create the user in ERPNext, then retry 'Invite tenant admin'.")


def throttled(step_key: str | None, message: str | None) -> bool:
    """Whether a failure of step `step_key` with `message` is ERPNext's throttle of new users."""
    return step_key == InviteTenantAdmin.key and THROTTLE_MARK in (message or '')


def _no_invitation(user: str) -> str:
    return (f'ERPNext has no outgoing e-mail account, so no invitation e-mail was sent to {user}: set one up in '
            'ERPNext (Settings > Email Account), then send the user a password reset from ERPNext.')


async def _company_permissions(ctx: StepContext, user: str) -> list[dict[str, Any]]:
    """The user's permissions on any Company (none when the user does not exist yet): this company's
    and, for a shared admin, the other tenants'."""
    return await ctx.get_list('User Permission', fields=['name', 'for_value'], filters=[
        ['user', '=', user], ['allow', '=', 'Company']])


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
    return saved.doc['name']


def _first_name(user: str) -> str:
    local = user.split('@', 1)[0].replace('.', ' ').replace('_', ' ').strip()
    return local.title()[:140] or 'Admin'
