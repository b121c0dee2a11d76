"""Step 9: one POS Profile per store."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import by_name, enable_ours, ensure_documents, plan_enable, retry_advice

DEFAULT_MODE = 'Cash'
FIELDS = ['name', 'company', 'warehouse', 'disabled', 'owner']


class CreatePosProfiles(Step):
    """`<ABBR> Store N` POS Profiles exist, one per store warehouse, ready to sell."""

    key = 'create_pos_profiles'
    title = 'Create POS profiles'
    critical = True
    needs = ('resolve_accounts', 'ensure_cost_center', 'create_warehouses', 'configure_payment_modes')
    after = ('create_price_list', 'create_walkin_customer')

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        warehouses = ctx.output('create_warehouses')['warehouses']
        names = [profile_name(ctx.abbr, n) for n in range(1, len(warehouses) + 1)]
        existing = by_name(await ctx.get_list('POS Profile', fields=FIELDS, filters=[['name', 'in', names]]))
        docs = {name: profile_document(ctx, name, warehouse)
                for name, warehouse in zip(names, warehouses, strict=True)}
        saved = await _ensure(ctx, docs, existing)
        return {'profiles': [doc['name'] for doc, _ in saved],
                'created': [doc['name'] for doc, new in saved if new]}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        names = [profile_name(ctx.abbr, n) for n in range(1, ctx.tenant.stores + 1)]
        company_exists = ctx.output('create_company').get('exists')
        rows = await ctx.erp.get_list('POS Profile', fields=['name', 'disabled'],
                                      filters=[['name', 'in', names]]) if company_exists else []
        existing = by_name(rows)
        return {'profiles': names, 'exists': [f'POS Profile {n}' for n in names if n in existing],
                'create': [f'POS Profile {n}' for n in names if n not in existing],
                **plan_enable('POS Profile', [existing[n] for n in names if n in existing])}


def profile_name(abbr: str, number: int) -> str:
    return f'{abbr} Store {number}'


def profile_document(ctx: StepContext, name: str, warehouse: str) -> dict[str, Any]:
    accounts = ctx.output('resolve_accounts')['accounts']
    cost_center = ctx.output('ensure_cost_center')['cost_center']
    modes = ctx.output('configure_payment_modes')['modes']
    doc = {
        'name': name, 'company': ctx.company, 'currency': ctx.tenant.currency, 'warehouse': warehouse,
        'write_off_account': accounts['write_off'], 'write_off_cost_center': cost_center,
        'cost_center': cost_center, 'income_account': accounts['income'], 'expense_account': accounts['expense'],
        'update_stock': 1,
        'payments': [{'mode_of_payment': mode, 'default': int(mode == DEFAULT_MODE)} for mode in modes],
    }
    if price_list := ctx.optional_output('create_price_list').get('price_list'):
        doc['selling_price_list'] = price_list
    if customer := ctx.optional_output('create_walkin_customer').get('customer'):
        doc['customer'] = customer
    return doc


async def _ensure(ctx: StepContext, docs: dict[str, dict[str, Any]],
                  existing: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
    try:
        return await enable_ours(ctx, 'POS Profile', await ensure_documents(ctx, 'POS Profile', docs, existing))
    except erp.ValidationError as exc:
        raise CriticalProvisioningError(
            f"ERPNext refused POS Profile '{exc.name or ', '.join(docs)}': {exc.message}. Fix what it names in "
            "ERPNext (usually a Mode of Payment without an account for this company: retry 'Configure payment "
            f"modes'), then {retry_advice(ctx, 'Create POS profiles')}.") from exc
