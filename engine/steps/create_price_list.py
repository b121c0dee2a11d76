"""Step 7: a selling price list in the tenant's currency."""

from __future__ import annotations

from typing import Any

from engine.steps.base import Step, StepContext
from engine.steps.common import ensure_document


class CreatePriceList(Step):
    """A selling Price List `<ABBR> Selling` in the tenant's currency exists."""

    key = 'create_price_list'
    title = 'Create price list'
    critical = False
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        name = price_list_name(ctx.abbr)
        existing = await ctx.find_doc('Price List', name)
        doc = {'price_list_name': name, 'currency': ctx.tenant.currency, 'selling': 1, 'buying': 0, 'enabled': 1}
        saved, created = await ensure_document(ctx, 'Price List', name, doc, existing, critical=False)
        if saved.get('currency') != ctx.tenant.currency:
            ctx.warn(f"Price List '{name}' is in {saved.get('currency')}, not the tenant's {ctx.tenant.currency}.")
        return {'price_list': saved['name'], 'created': created}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        name = price_list_name(ctx.abbr)
        exists = ctx.output('create_company').get('exists') and await ctx.erp.find_doc('Price List', name)
        return {'price_list': name, 'exists': [f'Price List {name}'] if exists else [],
                'create': [] if exists else [f'Price List {name}']}


def price_list_name(abbr: str) -> str:
    return f'{abbr} Selling'
