"""Step 5: one numbered warehouse per store."""

from __future__ import annotations

from typing import Any

from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import enable_ours, ensure_documents, plan_enable, retry_advice

FIELDS = ['name', 'company', 'warehouse_name', 'is_group', 'parent_warehouse', 'disabled', 'owner']
ROOT = 'All Warehouses'


class CreateWarehouses(Step):
    """`Store 1 - ABBR` … `Store N - ABBR` exist under the company's group warehouse."""

    key = 'create_warehouses'
    title = 'Create warehouses'
    critical = True
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        existing = await _warehouses(ctx)
        parent = _parent(ctx, existing)
        docs = {store_warehouse(number, ctx.abbr): {'warehouse_name': f'Store {number}', 'company': ctx.company,
                                                    'parent_warehouse': parent, 'is_group': 0}
                for number in range(1, ctx.tenant.stores + 1)}
        saved = await enable_ours(ctx, 'Warehouse', await ensure_documents(ctx, 'Warehouse', docs, existing))
        return {'warehouses': [doc['name'] for doc, _ in saved], 'parent': parent,
                'created': [doc['name'] for doc, created in saved if created]}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        existing = await _warehouses(ctx) if ctx.output('create_company').get('exists') else {}
        names = [store_warehouse(n, ctx.abbr) for n in range(1, ctx.tenant.stores + 1)]
        return {'warehouses': names, 'exists': [f'Warehouse {n}' for n in names if n in existing],
                'create': [f'Warehouse {n}' for n in names if n not in existing],
                **plan_enable('Warehouse', [existing[n] for n in names if n in existing])}


def store_warehouse(number: int, abbr: str) -> str:
    return f'Store {number} - {abbr}'


async def _warehouses(ctx: StepContext) -> dict[str, dict[str, Any]]:
    rows = await ctx.get_list('Warehouse', fields=FIELDS, filters=[['company', '=', ctx.company]])
    return {row['name']: row for row in rows}


def _parent(ctx: StepContext, existing: dict[str, dict[str, Any]]) -> str:
    preferred = f'{ROOT} - {ctx.abbr}'
    if preferred in existing and existing[preferred].get('is_group'):
        return preferred
    roots = sorted(n for n, r in existing.items() if r.get('is_group') and not r.get('parent_warehouse'))
    if not roots:
        raise CriticalProvisioningError(
            f"Company '{ctx.company}' has no group warehouse ('{preferred}') to put the store warehouses under: "
            "create it in ERPNext (Stock > Warehouse, 'Is Group' ticked), then "
            f"{retry_advice(ctx, 'Create warehouses')}.")
    return roots[0]
