"""Step 11: check that everything the earlier steps reported exists and fits together.

Documents that ERPNext returned to this very execution (a write's answer, or a look-up's row) are
checked as ERPNext returned them; every other document is read back, one `in` look-up per DocType,
all DocTypes at the same time. So a run that created everything reads nothing again, while a
resumed run or a retry of this step alone reads back what the earlier executions reported.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.errors import VerificationFailedError
from engine.errors import VerificationProblem as Problem
from engine.steps.base import Step, StepContext
from engine.steps.common import rows_by_name
from engine.steps.configure_payment_modes import company_row, read_modes


class VerifyProvisioning(Step):
    """Every document the earlier steps reported exists, is enabled and points where it should."""

    key = 'verify_provisioning'
    title = 'Verify provisioning'
    critical = True
    needs = ('create_company', 'resolve_accounts', 'ensure_cost_center', 'create_warehouses',
             'configure_payment_modes', 'create_pos_profiles')
    after = ('create_price_list', 'create_walkin_customer', 'invite_tenant_admin')

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        checks = (_company, _accounts, _cost_center, _warehouses, _payment_modes, _pos_profiles, _extras)
        results = await asyncio.gather(*(check(ctx) for check in checks))
        problems = [problem for found_problems, _ in results for problem in found_problems]
        if problems:
            raise VerificationFailedError(problems)
        return {'found': {key: value for _, found in results for key, value in found.items()}}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        return {'exists': [], 'create': [], 'note': 'reads every document back after the other steps'}


Check = tuple[list[Problem], dict[str, Any]]


async def _company(ctx: StepContext) -> Check:
    company = (await rows_by_name(ctx, 'Company', [ctx.company], ['name', 'abbr'])).get(ctx.company)
    if company is None:
        return [Problem(f"Company '{ctx.company}' is missing", step_title='Create company')], {}
    if company.get('abbr') != ctx.abbr:
        return [Problem(f"Company '{ctx.company}' has abbreviation {company.get('abbr')}, expected {ctx.abbr}")], {}
    return [], {'company': ctx.company}


async def _accounts(ctx: StepContext) -> Check:
    accounts = ctx.output('resolve_accounts')['accounts']
    rows = await rows_by_name(ctx, 'Account', accounts.values(), ['name', 'company', 'is_group', 'disabled'])
    problems = [_account_problem(purpose, name, row) for purpose, name in accounts.items()
                if (row := rows.get(name)) is None or row.get('disabled') or row.get('is_group')
                or row.get('company') != ctx.company]
    return problems, {'accounts': len(accounts)}


def _account_problem(purpose: str, name: str, row: dict | None) -> Problem:
    """'Resolve accounts' resolves the purpose again, to a usable ledger; for a disabled one it can
    only take another enabled ledger of the company (no step enables an account)."""
    if row is not None and row.get('disabled'):
        return Problem(f"{purpose} account '{name}' is disabled", step_title='Resolve accounts',
                       by_hand='enable it in ERPNext (Accounting > Chart of Accounts)')
    return Problem(f"{purpose} account '{name}' is missing or not a ledger of the company",
                   step_title='Resolve accounts')


async def _cost_center(ctx: StepContext) -> Check:
    name = ctx.output('ensure_cost_center')['cost_center']
    row = (await rows_by_name(ctx, 'Cost Center', [name], ['name', 'disabled'])).get(name)
    if row is None:
        return [Problem(f"cost center '{name}' is missing", step_title='Ensure cost center')], {}
    if row.get('disabled'):  # no step enables it ('Ensure cost center' fails on it)
        return [Problem(f"cost center '{name}' is disabled",
                        by_hand='enable it in ERPNext (Accounting > Cost Center)')], {}
    return [], {'cost_center': name}


WAREHOUSE_STEP_DOES = 'it creates a missing warehouse of the tenant and enables a disabled one'


async def _warehouses(ctx: StepContext) -> Check:
    names = ctx.output('create_warehouses')['warehouses']
    rows = await rows_by_name(ctx, 'Warehouse', names, ['name', 'company', 'disabled'])
    problems = [problem for name in names if (problem := _warehouse_problem(name, rows.get(name), ctx.company))]
    return problems, {'warehouses': names}


def _warehouse_problem(name: str, row: dict[str, Any] | None, company: str) -> Problem | None:
    what = f"warehouse '{name}'"
    if row is None or row.get('disabled'):
        why = 'is missing' if row is None else 'is disabled'
        return Problem(f'{what} {why}', step_title='Create warehouses', step_does=WAREHOUSE_STEP_DOES)
    if row.get('company') != company:  # the step adopts it as it is
        return Problem(f"{what} belongs to company '{row.get('company')}'",
                       by_hand=f"set its company back to '{company}' in ERPNext")
    return None


async def _payment_modes(ctx: StepContext) -> Check:
    modes = list(ctx.output('configure_payment_modes')['modes'])
    docs = {mode: ctx.seen.row('Mode of Payment', mode) for mode in modes}
    if any(doc is None for doc in docs.values()):
        docs = await read_modes(ctx)
    configured = sorted(mode for mode, doc in docs.items() if doc and doc.get('enabled', 1)
                        and company_row(doc, ctx.company))
    problems = [problem for mode in modes for problem in _mode_problems(mode, docs.get(mode), ctx.company)]
    return problems, {'payment_modes': configured}


def _mode_problems(mode: str, doc: dict[str, Any] | None, company: str) -> list[Problem]:
    what, step = f"Mode of Payment '{mode}'", 'Configure payment modes'
    if doc is None:
        return [Problem(f'{what} is missing', step_title=step)]
    problems = []
    if not doc.get('enabled', 1):  # shared by every company on the site: no step enables it
        problems.append(Problem(f'{what} is disabled', by_hand='enable it in ERPNext (Accounting > Mode of Payment)'))
    if not company_row(doc, company):
        problems.append(Problem(f'{what} has no account row for the company', step_title=step))
    return problems


async def _pos_profiles(ctx: StepContext) -> Check:
    names = ctx.output('create_pos_profiles')['profiles']
    warehouses = ctx.output('create_warehouses')['warehouses']
    rows = await rows_by_name(ctx, 'POS Profile', names, ['name', 'company', 'warehouse', 'disabled'])
    problems = [problem for name, warehouse in zip(names, warehouses, strict=False)
                if (problem := _pos_profile_problem(name, rows.get(name), warehouse))]
    return problems, {'pos_profiles': names}


def _pos_profile_problem(name: str, row: dict[str, Any] | None, warehouse: str) -> Problem | None:
    what, step = f"POS Profile '{name}'", 'Create POS profiles'
    if row is None:
        return Problem(f'{what} is missing', step_title=step)
    if row.get('disabled'):
        return Problem(f'{what} is disabled', step_title=step)
    if row.get('warehouse') != warehouse:  # the step adopts it as it is
        return Problem(f"{what} is on warehouse '{row.get('warehouse')}', not '{warehouse}'",
                       by_hand=f"set its warehouse back to '{warehouse}' in ERPNext")
    return None


EXTRAS = (  # non-critical documents: checked only when their step reported them
    ('create_price_list', 'price_list', 'Price List', 'Create price list'),
    ('create_walkin_customer', 'customer', 'Customer', 'Create walk-in customer'),
    ('invite_tenant_admin', 'user', 'User', 'Invite tenant admin'),
)


async def _extras(ctx: StepContext) -> Check:
    reported = [(key, doctype, ctx.optional_output(step).get(key), title) for step, key, doctype, title in EXTRAS]
    reported = [item for item in reported if item[2]]
    found_rows = await asyncio.gather(*(rows_by_name(ctx, doctype, [name], ['name'])
                                        for _, doctype, name, _ in reported))
    problems = [Problem(f"{doctype} '{name}' is missing", step_title=title)
                for (_, doctype, name, title), rows in zip(reported, found_rows, strict=True) if name not in rows]
    return problems, {key: name for key, _, name, _ in reported}
