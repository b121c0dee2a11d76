"""Step 3: the ledger accounts the later steps need, found through a chain of fallbacks.

A disabled account is never taken: ERPNext refuses ledger entries against it ("Cannot create
accounting entries against disabled accounts", erpnext/accounts/general_ledger.py), so a POS sale
booked to it would fail. Every fallback skips disabled ledgers; when a purpose has no enabled one but
a disabled one would have served (or the bank ledger to create exists, disabled), the step fails
naming it and where to enable it. No step enables an account: disabling one is an accounting
decision, and ERPNext's list answers carry `disabled`, so this costs no request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.erpnext.collation import fold
from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext
from engine.steps.common import create_document, plan_stays_disabled, retry_advice

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
        if _creates_bank(ctx, missing, accounts):
            found['bank'] = await _create_bank_ledger(ctx, accounts)
            sources['bank'] = 'created'
            created.append(found['bank'])
            missing.remove('bank')
        if missing:
            raise _missing_error(ctx, missing, accounts)
        return {'accounts': found, 'sources': sources, 'created': created}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        company_exists = bool(ctx.output('create_company').get('exists'))
        accounts = await _ledgers(ctx) if company_exists else {}
        found, sources, missing = resolve(ctx, accounts)
        exists = sorted(found.values())
        creates_bank = _creates_bank(ctx, missing, accounts)
        blocked = {p: names for p, names in _disabled_by_purpose(ctx, missing, accounts).items()
                   if not (p == 'bank' and creates_bank)}
        for purpose in missing:  # a company still to be created gets ERPNext's Standard chart
            need = next(n for n in NEEDS if n.purpose == purpose)
            found[purpose] = blocked[purpose][0] if blocked.get(purpose) else f'{need.name} - {ctx.abbr}'
            sources[purpose] = 'missing' if company_exists else 'created with the company'
            if blocked.get(purpose):
                sources[purpose] = 'disabled'
        if creates_bank:
            sources['bank'] = 'to be created'
        create = [f"Account {found['bank']}"] if creates_bank else []
        return {'accounts': found, 'sources': sources, 'exists': exists, 'create': create, **_plan_note(blocked)}


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
    """The first enabled ledger the fallbacks give for `need`, and which fallback gave it."""
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


def _disabled_candidates(need: Need, defaults: dict, accounts: dict, abbr: str) -> list[str]:
    """Disabled ledgers the fallbacks would have taken for `need` had they been enabled: the company
    default, those of the need's account type, the one named like `X - ABBR` (for the bank, the very
    ledger this step would create). Any ledger of a root type is only a last resort: not named."""
    disabled = {name: row for name, row in accounts.items() if _is_disabled_ledger(row)}
    default = defaults.get(need.default_field) if need.default_field else None
    typed = sorted(name for name, row in disabled.items() if need.account_type
                   and row.get('account_type') == need.account_type)
    named = _named(disabled, f'{need.name} - {abbr}')
    found = [default if default in disabled else None, *typed, named['name'] if named else None]
    return [name for name in dict.fromkeys(found) if name]


def _disabled_by_purpose(ctx: StepContext, missing: list[str], accounts: dict) -> dict[str, list[str]]:
    defaults = ctx.output('create_company').get('defaults', {})
    return {need.purpose: _disabled_candidates(need, defaults, accounts, ctx.abbr)
            for need in NEEDS if need.purpose in missing}


def _named(accounts: dict[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The account called `name` as ERPNext compares names (case and accents aside), if any."""
    return next((row for key, row in accounts.items() if fold(key) == fold(name)), None)


def _creates_bank(ctx: StepContext, missing: list[str], accounts: dict[str, dict[str, Any]]) -> bool:
    """No enabled bank ledger: this step creates `Bank - ABBR`, unless that name is a disabled ledger
    (ERPNext would refuse the insert as a duplicate, and the step does not enable it)."""
    return 'bank' in missing and not _is_disabled_ledger(_named(accounts, bank_ledger_name(ctx.abbr)))


def _is_disabled_ledger(row: dict[str, Any] | None) -> bool:
    return row is not None and not row.get('is_group') and bool(row.get('disabled'))


def bank_ledger_name(abbr: str) -> str:
    return f'{BANK_LEDGER} - {abbr}'


async def _create_bank_ledger(ctx: StepContext, accounts: dict[str, dict[str, Any]]) -> str:
    """ERPNext's Standard chart has only the `Bank Accounts` group: add a `Bank` ledger under it."""
    parent = _bank_group(accounts, ctx.abbr)
    if parent is None:
        raise CriticalProvisioningError(
            f"Company '{ctx.company}' has no bank account and no group of type Bank to create one under: set a "
            f"Default Bank Account on the company in ERPNext, then {retry_advice(ctx, 'Resolve accounts')}.")
    name = bank_ledger_name(ctx.abbr)
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


def _missing_error(ctx: StepContext, missing: list[str], accounts: dict) -> CriticalProvisioningError:
    blocked = _disabled_by_purpose(ctx, missing, accounts)
    absent = [purpose for purpose in missing if not blocked[purpose]]
    if not absent:
        return _disabled_error(ctx, blocked)
    labels = ', '.join(_label(p) for p in absent)
    also = f' {_disabled_sentence(ctx, blocked)}' if any(blocked.values()) else ''
    return CriticalProvisioningError(
        f"Company '{ctx.company}' has no usable {labels} account (no company default, no ledger of the right "
        f"type, none named like '<name> - {ctx.abbr}').{also} Create the ledger or set the company's default "
        f"account in ERPNext, then {retry_advice(ctx, 'Resolve accounts')}.")


def _disabled_error(ctx: StepContext, blocked: dict[str, list[str]]) -> CriticalProvisioningError:
    names = [name for found in blocked.values() for name in found]
    it = 'it' if len(names) == 1 else 'them'
    return CriticalProvisioningError(
        f"{_disabled_sentence(ctx, blocked)} ERPNext refuses ledger entries against a disabled account, and "
        f"no step enables one. Enable {it} in ERPNext (Accounting > Chart of Accounts: open the account, "
        "untick Disable), or set an enabled ledger as the company's default account, then retry "
        "'Resolve accounts'.")


def _disabled_sentence(ctx: StepContext, blocked: dict[str, list[str]]) -> str:
    """"The bank account 'Bank - AR' (created by this step earlier) of company 'Acme Retail' is disabled
    in ERPNext." for each purpose that only disabled ledgers would serve."""
    sentences = []
    for purpose, names in blocked.items():
        if not names:
            continue
        quoted = ', '.join(f"'{name}'" + (' (created by this step earlier)' if ctx.ours('Account', name) else '')
                           for name in names)
        plural, verb = ('s', 'are') if len(names) > 1 else ('', 'is')
        sentences.append(f"The {_label(purpose)} account{plural} {quoted} of company '{ctx.company}' {verb} "
                         'disabled in ERPNext.')
    return ' '.join(sentences)


def _plan_note(blocked: dict[str, list[str]]) -> dict[str, Any]:
    return plan_stays_disabled('Account', [name for found in blocked.values() for name in found],
                               fails=ResolveAccounts.title)


def _label(purpose: str) -> str:
    return next(n.label for n in NEEDS if n.purpose == purpose)
