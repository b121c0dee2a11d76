"""Step 3: the ledger accounts the later steps need, found through a chain of fallbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import create_document

ACCOUNT_FIELDS = ['name', 'company', 'account_name', 'account_type', 'root_type', 'is_group', 'disabled',
                  'parent_account']
BANK_GROUP = 'Bank Accounts'
BANK_LEDGER = 'Bank'


@dataclass(frozen=True)
class Need:
    """How to find one account: company default field → account_type → name → root_type."""

    purpose: str
    label: str
    default_field: str | None
    account_type: str | None
    name: str
    root_type: str | None  # only where any ledger of that root type is an acceptable account


NEEDS = (
    Need('cash', 'cash', 'default_cash_account', 'Cash', 'Cash', None),
    Need('bank', 'bank', 'default_bank_account', 'Bank', BANK_LEDGER, None),
    Need('receivable', 'receivable', 'default_receivable_account', 'Receivable', 'Debtors', None),
    Need('income', 'income', 'default_income_account', 'Income Account', 'Sales', 'Income'),
    Need('expense', 'expense', 'default_expense_account', 'Expense Account', 'Cost of Goods Sold', 'Expense'),
    Need('write_off', 'write-off', 'write_off_account', None, 'Write Off', 'Expense'),
    Need('round_off', 'round-off', 'round_off_account', 'Round Off', 'Round Off', 'Expense'),
)


class ResolveAccounts(Step):
    """Every account the later steps need is known; a missing bank ledger is created."""

    key = 'resolve_accounts'
    title = 'Resolve accounts'
    critical = True
    needs = ('create_company',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        accounts = await _ledgers(ctx)
        found, sources, missing = resolve(ctx, accounts)
        created = []
        if 'bank' in missing:
            found['bank'] = await _create_bank_ledger(ctx, accounts)
            sources['bank'] = 'created'
            created.append(found['bank'])
            missing.remove('bank')
        if missing:
            raise _missing_error(ctx, missing)
        return {'accounts': found, 'sources': sources, 'created': created}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        company_exists = bool(ctx.output('create_company').get('exists'))
        accounts = await _ledgers(ctx) if company_exists else {}
        found, sources, missing = resolve(ctx, accounts)
        exists = sorted(found.values())
        for purpose in missing:  # a company still to be created gets ERPNext's Standard chart
            need = next(n for n in NEEDS if n.purpose == purpose)
            found[purpose] = f'{need.name} - {ctx.abbr}'
            sources[purpose] = 'missing' if company_exists else 'created with the company'
        if 'bank' in missing:
            sources['bank'] = 'to be created'
        create = [f"Account {found['bank']}"] if 'bank' in missing else []
        return {'accounts': found, 'sources': sources, 'exists': exists, 'create': create}


async def _ledgers(ctx: StepContext) -> dict[str, dict[str, Any]]:
    rows = await ctx.get_list('Account', fields=ACCOUNT_FIELDS, filters=[['company', '=', ctx.company]])
    return {row['name']: row for row in rows}


def resolve(ctx: StepContext, accounts: dict[str, dict[str, Any]]) -> tuple[dict, dict, list[str]]:
    """(account by purpose, where each came from, purposes still missing)."""
    defaults = ctx.output('create_company').get('defaults', {})
    found, sources, missing = {}, {}, []
    for need in NEEDS:
        hit = _find(need, defaults, accounts, ctx.abbr)
        if hit is None:
            missing.append(need.purpose)
        else:
            found[need.purpose], sources[need.purpose] = hit
    return found, sources, missing


def _find(need: Need, defaults: dict, accounts: dict, abbr: str) -> tuple[str, str] | None:
    ledgers = {name: row for name, row in accounts.items() if not row.get('is_group') and not row.get('disabled')}
    default = defaults.get(need.default_field) if need.default_field else None
    if default in ledgers:
        return default, 'company default'
    if need.account_type:
        typed = sorted(name for name, row in ledgers.items() if row.get('account_type') == need.account_type)
        if typed:
            return typed[0], 'account type'
    if f'{need.name} - {abbr}' in ledgers:
        return f'{need.name} - {abbr}', 'name'
    if need.root_type:
        rooted = sorted(name for name, row in ledgers.items() if row.get('root_type') == need.root_type)
        if rooted:
            return rooted[0], 'root type'
    return None


async def _create_bank_ledger(ctx: StepContext, accounts: dict[str, dict[str, Any]]) -> str:
    """ERPNext's Standard chart has only the `Bank Accounts` group: add a `Bank` ledger under it."""
    parent = _bank_group(accounts, ctx.abbr)
    if parent is None:
        raise CriticalProvisioningError(
            f"Company '{ctx.company}' has no bank account and no group of type Bank to create one under: set a "
            "Default Bank Account on the company in ERPNext, then retry 'Resolve accounts'.")
    name = f'{BANK_LEDGER} - {ctx.abbr}'
    doc = {'account_name': BANK_LEDGER, 'company': ctx.company, 'parent_account': parent,
           'account_type': 'Bank', 'is_group': 0}
    saved, _ = await create_document(ctx, 'Account', name, doc)
    return saved['name']


def _bank_group(accounts: dict[str, dict[str, Any]], abbr: str) -> str | None:
    preferred = f'{BANK_GROUP} - {abbr}'
    if preferred in accounts and accounts[preferred].get('is_group'):
        return preferred
    groups = sorted(n for n, r in accounts.items() if r.get('is_group') and r.get('account_type') == 'Bank')
    return groups[0] if groups else None


def _missing_error(ctx: StepContext, missing: list[str]) -> CriticalProvisioningError:
    labels = ', '.join(next(n.label for n in NEEDS if n.purpose == p) for p in missing)
    return CriticalProvisioningError(
        f"Company '{ctx.company}' has no usable {labels} account (no company default, no ledger of the right "
        f"type, none named like '<name> - {ctx.abbr}'). Create the ledger or set the company's default account "
        "in ERPNext, then retry 'Resolve accounts'.")
