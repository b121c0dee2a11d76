"""Teardown 1: the tenant admin's User Permission and, if we created it and no other company still
uses it, the ERPNext user.

Several tenants may share one admin (engine/steps/invite_tenant_admin.py): the user goes only when
ERPNext shows no User Permission of it for another Company; otherwise it is kept, and the output's
`still_admin_of` names those companies (a later teardown of theirs may then delete it, see
engine/services/deprovision.py)."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.steps.base import StepContext
from engine.teardown.base import Preview, TeardownRecord, TeardownStep
from engine.teardown.common import delete_recorded, our_company, ours_in_erpnext, refused


class RemoveTenantAdmin(TeardownStep):
    key = 'remove_tenant_admin'
    title = 'Remove tenant admin'
    doctype = 'User'  # what its output's deleted / already_gone / kept name
    critical = True

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        user = ctx.tenant.admin_email.strip().lower()
        company = our_company(ctx)
        candidates = [name for name in ctx.recorded('User') if name == user]
        mine = bool(company and ctx.recorded('User Permission'))
        rows = await _company_permissions(ctx, user) if mine or candidates else []
        ours_rows = [row for row in rows if mine and row.get('for_value') == company]
        permissions = await _remove_permissions(ctx, user, company, ours_rows, self.title)
        others = sorted({row['for_value'] for row in rows if row.get('for_value') != company})
        ours, gone, kept = await ours_in_erpnext(ctx, 'User', candidates)
        if ours and others:
            ctx.warn(f"User '{user}' was left in ERPNext: it is still the admin of {_companies(others)}.")
            ours, kept = [], [*kept, *ours]
        result = await delete_recorded(ctx, 'User', ours, retry_title=self.title)
        return {'user_permissions_deleted': permissions, **result,
                'already_gone': [*result['already_gone'], *gone], 'kept': kept,
                'still_admin_of': others if user in kept else []}

    @classmethod
    def preview(cls, record: TeardownRecord) -> Preview:
        """The admin's permission on our company; the user when we created it (or another tenant's
        teardown kept it for this one), unless another live tenant still has it as its admin."""
        user, company = record.admin, record.company
        preview = Preview()
        if company and record.recorded('User Permission'):
            preview.delete += cls.deleting([f'{user} → Company {company}'], 'User Permission')
        if user not in record.recorded('User') and not record.admin_handed_over:
            return preview
        if record.admin_holders:  # the run keeps it while another company's permission names it
            holders = ', '.join(f"tenant '{name}'" for name in record.admin_holders)
            preview.kept.append({'doctype': 'User', 'name': user,
                                 'reason': f'still the admin of {holders}: the last of them to go deletes it'})
        else:
            preview.delete += cls.deleting([user])
        return preview


async def _company_permissions(ctx: StepContext, user: str) -> list[dict[str, Any]]:
    """Every User Permission of the user on a Company (one look-up): ours and other tenants'."""
    return await ctx.erp.get_list('User Permission', fields=['name', 'owner', 'for_value'], filters=[
        ['user', '=', user], ['allow', '=', 'Company']])


async def _remove_permissions(ctx: StepContext, user: str, company: str | None, rows: list[dict[str, Any]],
                              title: str) -> list[str]:
    """The user's permissions on our company that our API user created (when we recorded making one)."""
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


def _companies(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return ('company ' if len(quoted) == 1 else 'companies ') + ', '.join(quoted)
