"""Step 6: Modes of Payment with an account row for this company.

Modes of Payment are shared by every company on the site and gain one `accounts` row per company,
so the tables grow with every tenant. Nothing here reads or sends other companies' rows:

- One look-up reads, per mode, at most its first row and this company's row (or the mode alone
  when it has no rows), so its answer stays three to six rows however many companies the site holds.
- One `frappe.client.insert_many` creates the modes that are missing (with our row) and appends our
  row to the others. ERPNext appends a child row to the stored parent itself, so other companies'
  rows can be neither dropped nor overwritten, and the batch is one transaction: all or nothing.

A PUT of the whole table would send and receive every company's rows and race every other tenant
into TimestampMismatchError. This process's runs send their batches one at a time per site, and
together when they come at the same time (`SharedWrites`); other processes can still collide, and
a collision (or a mode another tenant created a moment ago) is looked up and tried again.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from engine.erpnext import errors as erp
from engine.erpnext.collation import fold
from engine.errors import CriticalProvisioningError, TransientProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import plan_stays_disabled, retry_advice
from engine.steps.shared_writes import LookAgain, SharedWrites

# mode → (type, which resolved account it uses)
MODES = {'Cash': ('Cash', 'cash'), 'Credit Card': ('Bank', 'bank'), 'Bank Transfer': ('Bank', 'bank')}
MAX_SAVE_RACES = 8
ROW_DOCTYPE = 'Mode of Payment Account'
ROW_COLUMNS = {'row_name': 'name', 'row_company': 'company', 'row_account': 'default_account'}
LOOK_UP_FIELDS = ['name', 'enabled',
                  *(f'`tab{ROW_DOCTYPE}`.{field} as {alias}' for alias, field in ROW_COLUMNS.items())]


class ConfigurePaymentModes(Step):
    """Cash, Credit Card and Bank Transfer exist, each with this company's account row."""

    key = 'configure_payment_modes'
    title = 'Configure payment modes'
    critical = True
    needs = ('resolve_accounts',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        accounts = ctx.output('resolve_accounts')['accounts']
        result = {'modes': {mode: accounts[purpose] for mode, (_, purpose) in MODES.items()}, 'rows_added': []}
        every_row = False
        for attempt in range(MAX_SAVE_RACES):
            modes = await read_modes(ctx, every_row=every_row)
            todo = [mode for mode in MODES if not company_row(modes.get(mode, {}), ctx.company)]
            if not todo:
                return result
            try:
                await _add_our_rows(ctx, modes, todo, accounts)
                return {**result, 'rows_added': todo}
            except LookAgain as race:  # another tenant created or saved one of them; the batch wrote nothing
                every_row = every_row or race.every_row
                await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        raise TransientProvisioningError(
            f"The Modes of Payment kept changing while we added company '{ctx.company}' (other tenants are "
            'being provisioned at the same time): retry.')

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        company_exists = ctx.output('create_company').get('exists')
        modes = await read_modes(ctx) if company_exists else {}
        configured = sorted(mode for mode, doc in modes.items() if company_row(doc, ctx.company))
        create = [f'Mode of Payment Account row for {mode}' for mode in MODES if mode not in configured]
        disabled = [mode for mode, doc in modes.items() if not doc.get('enabled', 1)]
        return {'exists': [f'Mode of Payment {m} (row for this company)' for m in configured], 'create': create,
                **plan_stays_disabled('Mode of Payment', disabled)}


async def read_modes(ctx: StepContext, *, every_row: bool = False) -> dict[str, dict[str, Any]]:
    """Our modes that exist, each with its first row and this company's row, if any (one request).

    A child-table column joins the rows as SQL's LEFT JOIN does (a mode without rows comes back once
    with empty row columns); the `or_filters` keep, of each mode's rows, the first and this company's.
    A mode whose rows were renumbered so that none is the first, and none is ours, is missed: creating
    it then fails as a duplicate, and the next look-up reads `every_row`."""
    rows = await ctx.erp.get_list(
        'Mode of Payment', fields=LOOK_UP_FIELDS, filters=[['name', 'in', list(MODES)]],
        or_filters=None if every_row else [[ROW_DOCTYPE, 'company', '=', ctx.company], [ROW_DOCTYPE, 'idx', '=', 1],
                                           [ROW_DOCTYPE, 'name', 'is', 'not set']])
    ours = {fold(mode): mode for mode in MODES}  # a site's "CASH" is its Cash, as ERPNext compares names
    modes: dict[str, dict[str, Any]] = {}
    for row in rows:
        mode = ours.get(fold(row['name']), row['name'])
        doc = modes.setdefault(mode, {'name': row['name'], 'enabled': row.get('enabled'), 'accounts': []})
        if row.get('row_name'):
            doc['accounts'].append({field: row.get(alias) for alias, field in ROW_COLUMNS.items()})
    ctx.seen.record('Mode of Payment', modes.values())
    return modes


def company_row(doc: dict[str, Any], company: str) -> dict[str, Any] | None:
    """This company's row on a mode, when it names an account."""
    return next((row for row in doc.get('accounts') or [] if row.get('company') == company
                 and row.get('default_account')), None)


async def _add_our_rows(ctx: StepContext, modes: dict[str, dict[str, Any]], todo: list[str],
                        accounts: dict[str, str]) -> None:
    """One batch: the missing modes created with our row, our row appended to the others."""
    missing = [mode for mode in todo if mode not in modes]
    await ctx.record_intents('Mode of Payment', missing)
    rows = {mode: {'company': ctx.company, 'default_account': accounts[MODES[mode][1]]} for mode in todo}
    docs = [{'doctype': 'Mode of Payment', 'mode_of_payment': mode, 'type': MODES[mode][0], 'enabled': 1,
             'accounts': [rows[mode]]} if mode in missing else
            {'doctype': ROW_DOCTYPE, 'parenttype': 'Mode of Payment', 'parent': modes[mode]['name'],
             'parentfield': 'accounts',
             **rows[mode]} for mode in todo]
    try:
        await SharedWrites.of(ctx.erp.base_url).insert(ctx.erp, docs)
    except erp.ValidationError as exc:
        raise CriticalProvisioningError(
            f"ERPNext refused to add company '{ctx.company}' to Mode of Payment {', '.join(todo)}: "
            f"{exc.message}. Check the accounts {', '.join(sorted({row['default_account'] for row in rows.values()}))} "
            f"in ERPNext, then {retry_advice(ctx, 'Configure payment modes')}.") from exc
    # ERPNext answered with these modes' names: they hold our row now (verification trusts a write's
    # answer as it trusts a saved document)
    ctx.seen.record('Mode of Payment', [{'name': modes.get(mode, {}).get('name', mode),
                                         'enabled': modes.get(mode, {}).get('enabled', 1),
                                         'accounts': [*modes.get(mode, {}).get('accounts', []), rows[mode]]}
                                        for mode in todo])
