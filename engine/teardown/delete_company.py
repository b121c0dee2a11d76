"""Teardown, last: the Company itself (ERPNext then removes what it created along with it: the
chart of accounts, default cost center and default warehouses)."""

from __future__ import annotations

from typing import Any

from engine.steps.base import StepContext
from engine.teardown.base import Preview, TeardownRecord, TeardownStep
from engine.teardown.common import delete_recorded, our_company, ours_in_erpnext


class DeleteCompany(TeardownStep):
    key = 'delete_company'
    title = 'Delete company'
    doctype = 'Company'  # what its output's deleted / already_gone / kept name
    critical = True
    after = ('delete_accounts', 'delete_warehouses', 'delete_cost_center', 'delete_price_list')

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        company = our_company(ctx)
        if company is None:
            ctx.warn('The company was not created by Provisioner for this tenant, so it was left in ERPNext.')
            return {'deleted': [], 'already_gone': []}
        ours, gone, kept = await ours_in_erpnext(ctx, 'Company', [company])
        result = await delete_recorded(ctx, 'Company', ours, retry_title=self.title)
        return {**result, 'already_gone': [*result['already_gone'], *gone], 'kept': kept}

    @classmethod
    def preview(cls, record: TeardownRecord) -> Preview:
        """Only the newest recorded company (the one the other steps worked on)."""
        return Preview(delete=cls.deleting([record.company] if record.company else []))
