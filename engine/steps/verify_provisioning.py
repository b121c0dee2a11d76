"""Step 11: read everything back and check that it fits together."""

from __future__ import annotations

from typing import Any

from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import by_name


class VerifyProvisioning(Step):
    """Every document the earlier steps reported exists, is enabled and points where it should."""

    key = 'verify_provisioning'
    title = 'Verify provisioning'
    critical = True
    needs = ('create_company', 'resolve_accounts', 'ensure_cost_center', 'create_warehouses',
             'configure_payment_modes', 'create_pos_profiles')
    after = ('create_price_list', 'create_walkin_customer', 'invite_tenant_admin')

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        problems: list[str] = []
        found: dict[str, Any] = {}
        for check in (_company, _accounts, _warehouses, _payment_modes, _pos_profiles, _extras):
            await check(ctx, problems, found)
        if problems:
            raise CriticalProvisioningError('Verification found problems: ' + '; '.join(problems))
        return {'found': found}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        return {'exists': [], 'create': [], 'note': 'reads every document back after the other steps'}


async def _company(ctx: StepContext, problems: list[str], found: dict[str, Any]) -> None:
    company = await ctx.erp.find_doc('Company', ctx.company)
    if company is None:
        problems.append(f"Company '{ctx.company}' is missing: retry 'Create company'")
    elif company.get('abbr') != ctx.abbr:
        problems.append(f"Company '{ctx.company}' has abbreviation {company.get('abbr')}, expected {ctx.abbr}")
    found['company'] = ctx.company


async def _accounts(ctx: StepContext, problems: list[str], found: dict[str, Any]) -> None:
    accounts = ctx.output('resolve_accounts')['accounts']
    cost_center = ctx.output('ensure_cost_center')['cost_center']
    rows = by_name(await ctx.erp.get_list('Account', fields=['name', 'company', 'is_group', 'disabled'],
                                          filters=[['name', 'in', sorted(set(accounts.values()))]]))
    for purpose, name in accounts.items():
        row = rows.get(name)
        if row is None or row.get('disabled') or row.get('is_group') or row.get('company') != ctx.company:
            problems.append(f"{purpose} account '{name}' is missing, disabled or not a ledger of the company: "
                            "retry 'Resolve accounts'")
    centers = await ctx.erp.get_list('Cost Center', fields=['name', 'disabled'], filters=[['name', '=', cost_center]])
    if not centers or centers[0].get('disabled'):
        problems.append(f"cost center '{cost_center}' is missing or disabled: retry 'Ensure cost center'")
    found['accounts'] = len(accounts)


async def _warehouses(ctx: StepContext, problems: list[str], found: dict[str, Any]) -> None:
    names = ctx.output('create_warehouses')['warehouses']
    rows = by_name(await ctx.erp.get_list('Warehouse', fields=['name', 'company', 'disabled'],
                                          filters=[['name', 'in', names]]))
    for name in names:
        if name not in rows or rows[name].get('disabled') or rows[name].get('company') != ctx.company:
            problems.append(f"warehouse '{name}' is missing or disabled: retry 'Create warehouses'")
    found['warehouses'] = names


async def _payment_modes(ctx: StepContext, problems: list[str], found: dict[str, Any]) -> None:
    modes = ctx.output('configure_payment_modes')['modes']
    rows = await ctx.erp.get_list('Mode of Payment', fields=['name', 'enabled'], filters=[
        ['Mode of Payment Account', 'company', '=', ctx.company], ['name', 'in', list(modes)]])
    configured = {row['name'] for row in rows if row.get('enabled', 1)}
    for mode in modes:
        if mode not in configured:
            problems.append(f"Mode of Payment '{mode}' has no enabled account row for the company: "
                            "retry 'Configure payment modes'")
    found['payment_modes'] = sorted(configured)


async def _pos_profiles(ctx: StepContext, problems: list[str], found: dict[str, Any]) -> None:
    names = ctx.output('create_pos_profiles')['profiles']
    rows = by_name(await ctx.erp.get_list('POS Profile', fields=['name', 'company', 'warehouse', 'disabled'],
                                          filters=[['name', 'in', names]]))
    warehouses = ctx.output('create_warehouses')['warehouses']
    for name, warehouse in zip(names, warehouses, strict=False):
        row = rows.get(name)
        if row is None or row.get('disabled') or row.get('warehouse') != warehouse:
            problems.append(f"POS Profile '{name}' is missing, disabled or not on '{warehouse}': "
                            "retry 'Create POS profiles'")
    found['pos_profiles'] = names


async def _extras(ctx: StepContext, problems: list[str], found: dict[str, Any]) -> None:
    """Non-critical documents: checked only when their step reported them."""
    if price_list := ctx.optional_output('create_price_list').get('price_list'):
        if await ctx.erp.find_doc('Price List', price_list) is None:
            problems.append(f"Price List '{price_list}' is missing: retry 'Create price list'")
        found['price_list'] = price_list
    if customer := ctx.optional_output('create_walkin_customer').get('customer'):
        if await ctx.erp.find_doc('Customer', customer) is None:
            problems.append(f"Customer '{customer}' is missing: retry 'Create walk-in customer'")
        found['customer'] = customer
    if user := ctx.optional_output('invite_tenant_admin').get('user'):
        if await ctx.erp.find_doc('User', user) is None:
            problems.append(f"User '{user}' is missing: retry 'Invite tenant admin'")
        found['user'] = user
