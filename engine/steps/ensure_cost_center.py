"""Step 4: the company's main cost center.

No step enables a cost center someone disabled in ERPNext (drift says so too: "Repair leaves it as
it is"), so a disabled main cost center fails this step, naming it and where to enable it, instead
of being taken silently and failing verification at the end of the run."""

from __future__ import annotations

from typing import Any

from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import ensure_document, plan_stays_disabled, retry_advice

FIELDS = ['name', 'cost_center_name', 'is_group', 'parent_cost_center', 'disabled', 'owner']


class EnsureCostCenter(Step):
    """The company has a ledger cost center `Main - ABBR` (created when missing)."""

    key = 'ensure_cost_center'
    title = 'Ensure cost center'
    critical = True
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        centers = await _cost_centers(ctx)
        name = _main_name(ctx)
        if name in centers and not centers[name].get('is_group'):
            if centers[name].get('disabled'):
                raise _disabled_error(ctx, name)
            return {'cost_center': name, 'created': False}
        root = _root(ctx, centers)
        doc = {'cost_center_name': 'Main', 'company': ctx.company, 'parent_cost_center': root, 'is_group': 0}
        created, was_created = await ensure_document(ctx, 'Cost Center', name, doc, centers.get(name))
        return {'cost_center': created['name'], 'created': was_created}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        name = _main_name(ctx)
        if not ctx.output('create_company').get('exists'):
            return {'cost_center': name, 'exists': [], 'create': [], 'note': 'created with the company'}
        centers = await _cost_centers(ctx)
        if name in centers:
            return {'cost_center': name, 'exists': [f'Cost Center {name}'], 'create': [],
                    **plan_stays_disabled('Cost Center', [name] if centers[name].get('disabled') else [],
                                          fails=self.title)}
        return {'cost_center': name, 'exists': [], 'create': [f'Cost Center {name}']}


def _main_name(ctx: StepContext) -> str:
    return ctx.output('create_company').get('defaults', {}).get('cost_center') or f'Main - {ctx.abbr}'


async def _cost_centers(ctx: StepContext) -> dict[str, dict[str, Any]]:
    rows = await ctx.get_list('Cost Center', fields=FIELDS, filters=[['company', '=', ctx.company]])
    return {row['name']: row for row in rows}


def _root(ctx: StepContext, centers: dict[str, dict[str, Any]]) -> str:
    groups = sorted(name for name, row in centers.items() if row.get('is_group') and not row.get('parent_cost_center'))
    if not groups:
        raise CriticalProvisioningError(
            f"Company '{ctx.company}' has no root cost center to put 'Main - {ctx.abbr}' under: create the "
            "company's cost center tree in ERPNext (Accounting > Cost Center), then "
            f"{retry_advice(ctx, 'Ensure cost center')}.")
    return groups[0]


def _disabled_error(ctx: StepContext, name: str) -> CriticalProvisioningError:
    ours = ' (created by this step earlier)' if ctx.ours('Cost Center', name) else ''
    return CriticalProvisioningError(
        f"Cost Center '{name}'{ours}, the main cost center of company '{ctx.company}', is disabled in ERPNext, "
        "and no step enables it (the POS profiles book to it). Enable it in ERPNext (Accounting > Cost Center: "
        f"open '{name}', untick Disabled), then {retry_advice(ctx, 'Ensure cost center')}.")
