"""Step 6: Modes of Payment with an account row for this company.

Modes of Payment are shared by every company on the site, and `accounts` is a child table: a PUT
replaces the whole table. So we send every existing row (with its `name`) plus ours, together with
the `modified` we read; when another tenant saved in between, ERPNext answers
TimestampMismatchError and we read again. Other companies' rows are never dropped.

One look-up reads the three modes with all their rows (a child-table column joins the rows, as
SQL's LEFT JOIN: a mode without rows comes back once with empty row columns); the modes that need
a change are then created or updated at the same time.

Runs of one process take turns on each shared mode (`ModeTurns`) instead of racing each other into
TimestampMismatchError: a run that another run of ours overtook since its look-up reads the mode
again before its PUT, so tenants provisioned together cost one read and one PUT per mode each, not
read-PUT-retry rounds over a table that grows with every tenant. Other processes still race, and
still re-read on TimestampMismatchError.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError, TransientProvisioningError
from engine.steps.base import Step, StepContext

# mode → (type, which resolved account it uses)
MODES = {'Cash': ('Cash', 'cash'), 'Credit Card': ('Bank', 'bank'), 'Bank Transfer': ('Bank', 'bank')}
MAX_SAVE_RACES = 8
ROW_TABLE = '`tabMode of Payment Account`'
ROW_COLUMNS = {'row_name': 'name', 'row_idx': 'idx', 'row_company': 'company', 'row_account': 'default_account'}
LOOK_UP_FIELDS = ['name', 'modified', 'enabled', *(f'{ROW_TABLE}.{field} as {alias}' for alias, field in
                                                     ROW_COLUMNS.items())]


class ConfigurePaymentModes(Step):
    """Cash, Credit Card and Bank Transfer exist, each with this company's account row."""

    key = 'configure_payment_modes'
    title = 'Configure payment modes'
    critical = True
    needs = ('resolve_accounts',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        accounts = ctx.output('resolve_accounts')['accounts']
        saves = {mode: ModeTurns.of(ctx.erp.base_url, mode).saves for mode in MODES}  # before the look-up
        modes = await read_modes(ctx)
        await ctx.record_intents('Mode of Payment', [mode for mode in MODES if mode not in modes])
        results = await asyncio.gather(*(
            _configure(ctx, mode, kind, accounts[purpose], modes.get(mode), saves[mode])
            for mode, (kind, purpose) in MODES.items()))
        added = [mode for mode, result in zip(MODES, results, strict=True) if result != 'configured']
        return {'modes': {mode: accounts[p] for mode, (_, p) in MODES.items()}, 'rows_added': added}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        company_exists = ctx.output('create_company').get('exists')
        modes = await read_modes(ctx) if company_exists else {}
        configured = sorted(mode for mode, doc in modes.items() if company_row(doc, ctx.company))
        create = [f'Mode of Payment Account row for {mode}' for mode in MODES if mode not in configured]
        return {'exists': [f'Mode of Payment {m} (row for this company)' for m in configured], 'create': create}


async def read_modes(ctx: StepContext) -> dict[str, dict[str, Any]]:
    """Our modes that exist, as documents with their full `accounts` table (one request)."""
    rows = await ctx.erp.get_list('Mode of Payment', fields=LOOK_UP_FIELDS, filters=[['name', 'in', list(MODES)]])
    modes: dict[str, dict[str, Any]] = {}
    for row in rows:
        doc = modes.setdefault(row['name'], {'name': row['name'], 'modified': row.get('modified'),
                                             'enabled': row.get('enabled'), 'accounts': []})
        if row.get('row_name'):
            doc['accounts'].append({field: row.get(alias) for alias, field in ROW_COLUMNS.items()})
    for doc in modes.values():
        doc['accounts'].sort(key=lambda child: child.get('idx') or 0)
    ctx.seen.record('Mode of Payment', modes.values(), complete=True)
    return modes


def company_row(doc: dict[str, Any], company: str) -> dict[str, Any] | None:
    """This company's row on a mode, when it names an account."""
    return next((row for row in doc.get('accounts') or [] if row.get('company') == company
                 and row.get('default_account')), None)


async def _configure(ctx: StepContext, mode: str, kind: str, account: str, doc: dict[str, Any] | None,
                     saves_seen: int) -> str:
    if doc is None:
        return await _create_mode(ctx, mode, kind, account)
    return await _add_row(ctx, mode, account, doc, saves_seen)


async def _create_mode(ctx: StepContext, mode: str, kind: str, account: str) -> str:
    doc = {'mode_of_payment': mode, 'type': kind, 'enabled': 1,
           'accounts': [{'company': ctx.company, 'default_account': account}]}
    try:
        await ctx.insert('Mode of Payment', doc)
        return 'created'
    except erp.DuplicateError:  # another tenant created it a moment ago: add our row to theirs
        return await _add_row(ctx, mode, account, None, 0)


async def _add_row(ctx: StepContext, mode: str, account: str, doc: dict[str, Any] | None,
                   saves_seen: int) -> str:
    """Append this company's row, keeping every other row; re-read and retry on a stale `modified`."""
    if doc is not None and company_row(doc, ctx.company):
        return 'configured'
    turn = ModeTurns.of(ctx.erp.base_url, mode)
    async with turn.lock:
        if turn.saves != saves_seen:
            doc = None  # another run of ours saved it since our look-up
        for attempt in range(MAX_SAVE_RACES):
            doc = doc or await ctx.get_doc('Mode of Payment', mode)
            if company_row(doc, ctx.company):
                return 'configured'
            rows = doc.get('accounts') or []
            kept = [_row(row) for row in rows if row.get('company') != ctx.company]
            table = [*kept, {'company': ctx.company, 'default_account': account}]
            try:
                await ctx.update('Mode of Payment', mode, {'accounts': table, 'modified': doc['modified']})
                turn.saves += 1
                return 'row added'
            except erp.TimestampMismatchError:
                doc = None  # another process saved in between: read it again
                await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
            except erp.ValidationError as exc:
                raise CriticalProvisioningError(
                    f"ERPNext refused to add company '{ctx.company}' to Mode of Payment '{mode}': {exc.message}. "
                    f"Check the account '{account}' in ERPNext, then retry 'Configure payment modes'.") from exc
    raise TransientProvisioningError(
        f"Mode of Payment '{mode}' kept changing while we added company '{ctx.company}' (other tenants are "
        'being provisioned at the same time): retry.')


@dataclass
class ModeTurns:
    """One shared Mode of Payment of one ERPNext site, as this process's runs see it: whose turn it is
    to save it, and how many saves our runs made of it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    saves: int = 0

    _by_loop: ClassVar[weakref.WeakKeyDictionary] = weakref.WeakKeyDictionary()  # a lock serves one loop

    @classmethod
    def of(cls, site: str, mode: str) -> ModeTurns:
        turns = cls._by_loop.setdefault(asyncio.get_running_loop(), {})
        return turns.setdefault((site, mode), cls())


def _row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored child row as we send it back: its name keeps it the same row."""
    return {key: row[key] for key in ('name', 'company', 'default_account') if row.get(key) is not None}
