"""Step 8: a walk-in customer for point-of-sale use.

ERPNext does not refuse a second Customer with a taken name: it silently saves it as
`<name> - 1`. So we look the customer up by `customer_name` first, and keep the name ERPNext gave.
"""

from __future__ import annotations

from typing import Any

from engine.steps.base import Step, StepContext
from engine.steps.common import conflict, create_document, require_ours

FIELDS = ['name', 'customer_name', 'disabled', 'owner']


class CreateWalkinCustomer(Step):
    """A Customer `Walk-in Customer - <ABBR>` exists for the tenant's POS."""

    key = 'create_walkin_customer'
    title = 'Create walk-in customer'
    critical = False
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        customer_name = walkin_name(ctx.abbr)
        found = await _find(ctx, customer_name)
        if found is not None:  # found as ERPNext compares; ours only under exactly our name
            if found.get('customer_name') != customer_name:
                raise conflict(ctx, 'Customer', found.get('customer_name') or found['name'], critical=False)
            await require_ours(ctx, 'Customer', found, name=customer_name, critical=False)
            return {'customer': found['name'], 'created': False}
        saved, _ = await create_document(ctx, 'Customer', customer_name,
                                         {'customer_name': customer_name, 'customer_type': 'Individual'},
                                         critical=False)
        return {'customer': saved['name'], 'created': True}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        customer_name = walkin_name(ctx.abbr)
        found = await _find(ctx, customer_name) if ctx.output('create_company').get('exists') else None
        return {'customer': customer_name, 'exists': [f'Customer {found["name"]}'] if found else [],
                'create': [] if found else [f'Customer {customer_name}']}


def walkin_name(abbr: str) -> str:
    return f'Walk-in Customer - {abbr}'


async def _find(ctx: StepContext, customer_name: str) -> dict[str, Any] | None:
    rows = await ctx.get_list('Customer', fields=FIELDS, filters=[['customer_name', '=', customer_name]],
                                  order_by='creation asc')
    return rows[0] if rows else None
