"""Step 11: check that everything the earlier steps reported exists and fits together.

Documents that ERPNext returned to this very execution (a write's answer, or a look-up's row) are
checked as ERPNext returned them; every other document is read back, one `in` look-up per DocType,
all DocTypes at the same time. So a run that created everything reads nothing again, while a
resumed run or a retry of this step alone reads back what the earlier executions reported.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.errors import VerificationFailedError
from engine.steps.base import Step, StepContext
from engine.steps.common import rows_by_name
from engine.steps.configure_payment_modes import company_row, read_modes


class VerifyProvisioning(Step):
    """Every document the earlier steps reported exists, is enabled and points where it should."""

    key = 'verify_provisioning'
    title = 'Verify provisioning'
    critical = True
    needs = ('create_company', 'resolve_accounts', 'ensure_cost_center', 'create_warehouses',
             'configure_payment_modes', 'create_pos_profiles')
    after = ('create_price_list', 'create_walkin_customer', 'invite_tenant_admin')

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        checks = (_company, _accounts, _cost_center, _warehouses, _payment_modes, _pos_profiles, _extras)
        results = await asyncio.gather(*(check(ctx) for check in checks))
        problems = [problem for found_problems, _ in results for problem in found_problems]
        if problems:
            raise VerificationFailedError(problems)
        return {'found': {key: value for _, found in results for key, value in found.items()}}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        return {'exists': [], 'create': [], 'note': 'reads every document back after the other steps'}


Check = tuple[list[str], dict[str, Any]]


async def _company(ctx: StepContext) -> Check:
    company = (await rows_by_name(ctx, 'Company', [ctx.company], ['name', 'abbr'])).get(ctx.company)
    if company is None:
        return [f"Company '{ctx.company}' is missing: retry 'Create company'"], {}
    if company.get('abbr') != ctx.abbr:
        return [f"Company '{ctx.company}' has abbreviation {company.get('abbr')}, expected {ctx.abbr}"], {}
    return [], {'company': ctx.company}


async def _accounts(ctx: StepContext) -> Check:
    accounts = ctx.output('resolve_accounts')['accounts']
    rows = await rows_by_name(ctx, 'Account', accounts.values(), ['name', 'company', 'is_group', 'disabled'])
    problems = []
    for purpose, name in accounts.items():
        row = rows.get(name)
        if row is None or row.get('disabled') or row.get('is_group') or row.get('company') != ctx.company:
            problems.append(f"{purpose} account '{name}' is missing, disabled or not a ledger of the company: "
                            "retry 'Resolve accounts'")
    return problems, {'accounts': len(accounts)}


async def _cost_center(ctx: StepContext) -> Check:
    name = ctx.output('ensure_cost_center')['cost_center']
    row = (await rows_by_name(ctx, 'Cost Center', [name], ['name', 'disabled'])).get(name)
    if row is None or row.get('disabled'):
        return [f"cost center '{name}' is missing or disabled: retry 'Ensure cost center'"], {}
    return [], {'cost_center': name}


async def _warehouses(ctx: StepContext) -> Check:
    names = ctx.output('create_warehouses')['warehouses']
    rows = await rows_by_name(ctx, 'Warehouse', names, ['name', 'company', 'disabled'])
    problems = [f"warehouse '{name}' {why}: retry 'Create warehouses' (it creates a missing warehouse of the "
                "tenant and enables a disabled one)"
                for name in names if (why := _warehouse_problem(rows.get(name), ctx.company))]
    return problems, {'warehouses': names}


def _warehouse_problem(row: dict[str, Any] | None, company: str) -> str | None:
    if row is None:
        return 'is missing'
    if row.get('company') != company:
        return f"belongs to company '{row.get('company')}'"
    return 'is disabled' if row.get('disabled') else None


async def _payment_modes(ctx: StepContext) -> Check:
    modes = list(ctx.output('configure_payment_modes')['modes'])
    docs = {mode: ctx.seen.row('Mode of Payment', mode) for mode in modes}
    if any(doc is None for doc in docs.values()):
        docs = await read_modes(ctx)
    configured = sorted(mode for mode, doc in docs.items() if doc and doc.get('enabled', 1)
                        and company_row(doc, ctx.company))
    problems = [f"Mode of Payment '{mode}' has no enabled account row for the company: retry 'Configure payment "
                "modes'" for mode in modes if mode not in configured]
    return problems, {'payment_modes': configured}


async def _pos_profiles(ctx: StepContext) -> Check:
    names = ctx.output('create_pos_profiles')['profiles']
    warehouses = ctx.output('create_warehouses')['warehouses']
    rows = await rows_by_name(ctx, 'POS Profile', names, ['name', 'company', 'warehouse', 'disabled'])
    problems = []
    for name, warehouse in zip(names, warehouses, strict=False):
        row = rows.get(name)
        why = ('is missing' if row is None else 'is disabled' if row.get('disabled')
               else f"is on warehouse '{row.get('warehouse')}', not '{warehouse}'" if row.get('warehouse') != warehouse
               else None)
        if why:
            problems.append(f"POS Profile '{name}' {why}: retry 'Create POS profiles'")
    return problems, {'pos_profiles': names}


EXTRAS = (  # non-critical documents: checked only when their step reported them
    ('create_price_list', 'price_list', 'Price List', 'Create price list'),
    ('create_walkin_customer', 'customer', 'Customer', 'Create walk-in customer'),
    ('invite_tenant_admin', 'user', 'User', 'Invite tenant admin'),
)


async def _extras(ctx: StepContext) -> Check:
    reported = [(key, doctype, ctx.optional_output(step).get(key), title) for step, key, doctype, title in EXTRAS]
    reported = [item for item in reported if item[2]]
    found_rows = await asyncio.gather(*(rows_by_name(ctx, doctype, [name], ['name'])
                                        for _, doctype, name, _ in reported))
    problems = [f"{doctype} '{name}' is missing: retry '{title}'"
                for (_, doctype, name, title), rows in zip(reported, found_rows, strict=True) if name not in rows]
    return problems, {key: name for key, _, name, _ in reported}
