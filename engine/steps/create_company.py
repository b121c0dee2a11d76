"""Step 2: the tenant's Company, with an abbreviation no other company uses."""

from __future__ import annotations

import re
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError, TransientProvisioningError
from engine.steps.base import Step, StepContext
from engine.erpnext.collation import fold
from engine.steps.common import create_document, require_ours

ABBR_TAKEN = 'Abbreviation already used'
MAX_ABBR_RACES = 5


class CreateCompany(Step):
    """The Company exists with a unique abbreviation (initials, then digits when taken)."""

    key = 'create_company'
    title = 'Create company'
    critical = True
    needs = ('check_engine',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        name = ctx.tenant.company_name
        for _ in range(MAX_ABBR_RACES):
            existing, taken = await self._look_up(ctx, name)
            if existing is not None:
                return await self._adopt(ctx, existing)
            abbr = free_abbr(initials(name), taken)
            created = await self._create(ctx, name, abbr)
            if created is not None:
                return _output(created, created=True)
        # Other tenants with the same initials are being created right now: after a back-off the
        # race is over, so this is transient (retried in the step, then by the automatic retry).
        raise TransientProvisioningError(
            f"Could not find a free abbreviation for company '{name}': other companies kept taking them. Retry.")

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        name = ctx.tenant.company_name
        existing, taken = await self._look_up(ctx, name)
        if existing is not None:
            out = await self._adopt(ctx, existing)
            return {**out, 'exists': [f'Company {name} ({out["abbr"]})'], 'create': []}
        abbr = free_abbr(initials(name), taken)
        return {'company': name, 'abbr': abbr, 'defaults': {}, 'exists': [], 'create': [f'Company {name} ({abbr})']}

    async def _look_up(self, ctx: StepContext, name: str) -> tuple[dict[str, Any] | None, set[str]]:
        """One request: our company by name (with its default accounts), and every abbreviation
        starting with our initials."""
        rows = await ctx.get_list('Company', fields=COMPANY_FIELDS, or_filters=[
            ['name', '=', name], ['abbr', 'like', f'{initials(name)}%']])
        existing = next((row for row in rows if fold(row['name']) == fold(name)), None)  # as ERPNext compares
        return existing, {str(row['abbr']).upper() for row in rows if row.get('abbr')}

    async def _adopt(self, ctx: StepContext, company: dict[str, Any]) -> dict[str, Any]:
        await require_ours(ctx, 'Company', company)
        return _output(company, created=False)

    async def _create(self, ctx: StepContext, name: str, abbr: str) -> dict[str, Any] | None:
        """The created company (or ours from an earlier attempt), or None when another company took
        `abbr` meanwhile (the refusal took the intent back; the next try records it again)."""
        doc = {'company_name': name, 'abbr': abbr, 'default_currency': ctx.tenant.currency,
               'country': ctx.tenant.country}
        try:
            return (await create_document(ctx, 'Company', name, doc))[0]
        except erp.ValidationError as exc:
            if ABBR_TAKEN in exc.message:
                return None
            raise CriticalProvisioningError(
                f"ERPNext refused to create company '{name}': {exc.message}. Correct the tenant's country or "
                'currency (or the value ERPNext names), then retry.') from exc


def initials(company_name: str) -> str:
    """ERPNext's own default: the upper-cased first letter of each word."""
    letters = ''.join(word[0] for word in company_name.split() if word)
    return re.sub(r'[^0-9A-Za-z]', '', letters).upper() or 'T'


def free_abbr(base: str, taken: set[str]) -> str:
    """`base`, or `base` followed by the smallest number that no company uses."""
    if base not in taken:
        return base
    number = 1
    while f'{base}{number}' in taken:
        number += 1
    return f'{base}{number}'


DEFAULT_FIELDS = ('default_cash_account', 'default_bank_account', 'default_receivable_account',
                  'default_income_account', 'default_expense_account', 'write_off_account',
                  'round_off_account', 'cost_center', 'default_currency')
COMPANY_FIELDS = ['name', 'abbr', 'owner', *DEFAULT_FIELDS]


def _output(company: dict[str, Any], *, created: bool) -> dict[str, Any]:
    defaults = {field: company[field] for field in DEFAULT_FIELDS if company.get(field)}
    return {'company': company['name'], 'abbr': company['abbr'], 'defaults': defaults, 'created': created}
