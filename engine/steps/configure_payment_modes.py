"""Step 6: Modes of Payment with an account row for this company.

Modes of Payment are shared by every company on the site, and `accounts` is a child table: a PUT
replaces the whole table. So we send every existing row (with its `name`) plus ours, together with
the `modified` we read; when another tenant saved in between, ERPNext answers
TimestampMismatchError and we read again. Other companies' rows are never dropped.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError, TransientProvisioningError
from engine.steps.base import Step, StepContext

# mode → (type, which resolved account it uses)
MODES = {'Cash': ('Cash', 'cash'), 'Credit Card': ('Bank', 'bank'), 'Bank Transfer': ('Bank', 'bank')}
MAX_SAVE_RACES = 8


class ConfigurePaymentModes(Step):
    """Cash, Credit Card and Bank Transfer exist, each with this company's account row."""

    key = 'configure_payment_modes'
    title = 'Configure payment modes'
    critical = True
    needs = ('resolve_accounts',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        accounts = ctx.output('resolve_accounts')['accounts']
        configured = set(await _modes_with_row(ctx))
        missing = [mode for mode in MODES if mode not in configured]
        present = {row['name'] for row in await ctx.erp.get_list(
            'Mode of Payment', filters=[['name', 'in', missing]])} if missing else set()
        result, added = {}, []
        for mode, (kind, purpose) in MODES.items():
            account = accounts[purpose]
            if mode in configured:
                result[mode] = 'configured'
            elif mode not in present:
                result[mode] = await _create_mode(ctx, mode, kind, account)
                added.append(mode)
            else:
                result[mode] = await _add_row(ctx, mode, account)
                added.append(mode)
        return {'modes': {mode: accounts[p] for mode, (_, p) in MODES.items()}, 'rows_added': added}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        company_exists = ctx.output('create_company').get('exists')
        configured = set(await _modes_with_row(ctx)) if company_exists else set()
        create = [f'Mode of Payment Account row for {mode}' for mode in MODES if mode not in configured]
        return {'exists': [f'Mode of Payment {m} (row for this company)' for m in sorted(configured)],
                'create': create}


async def _modes_with_row(ctx: StepContext) -> list[str]:
    """Modes that already have a row for this company (a child-table filter: one request)."""
    rows = await ctx.erp.get_list('Mode of Payment', filters=[
        ['Mode of Payment Account', 'company', '=', ctx.company], ['name', 'in', list(MODES)]])
    return [row['name'] for row in rows]


async def _create_mode(ctx: StepContext, mode: str, kind: str, account: str) -> str:
    await ctx.record_intent('Mode of Payment', mode)
    doc = {'mode_of_payment': mode, 'type': kind, 'enabled': 1,
           'accounts': [{'company': ctx.company, 'default_account': account}]}
    try:
        await ctx.erp.insert('Mode of Payment', doc)
        return 'created'
    except erp.DuplicateError:  # another tenant created it a moment ago: add our row to theirs
        return await _add_row(ctx, mode, account)


async def _add_row(ctx: StepContext, mode: str, account: str) -> str:
    """Append this company's row, keeping every other row; re-read and retry on a stale `modified`."""
    for attempt in range(MAX_SAVE_RACES):
        doc = await ctx.erp.get_doc('Mode of Payment', mode)
        rows = doc.get('accounts') or []
        ours = [row for row in rows if row.get('company') == ctx.company]
        if ours and ours[0].get('default_account'):
            return 'configured'
        kept = [_row(row) for row in rows if row.get('company') != ctx.company]
        table = [*kept, {'company': ctx.company, 'default_account': account}]
        try:
            await ctx.erp.update('Mode of Payment', mode, {'accounts': table, 'modified': doc['modified']})
            return 'row added'
        except erp.TimestampMismatchError:
            await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        except erp.ValidationError as exc:
            raise CriticalProvisioningError(
                f"ERPNext refused to add company '{ctx.company}' to Mode of Payment '{mode}': {exc.message}. "
                f"Check the account '{account}' in ERPNext, then retry 'Configure payment modes'.") from exc
    raise TransientProvisioningError(
        f"Mode of Payment '{mode}' kept changing while we added company '{ctx.company}' (other tenants are "
        'being provisioned at the same time): retry.')


def _row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored child row as we send it back: its name keeps it the same row."""
    return {key: row[key] for key in ('name', 'company', 'default_account') if row.get(key) is not None}
