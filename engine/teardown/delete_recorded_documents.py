"""Teardown steps that delete the documents of one DocType that the tenant's runs created."""

from __future__ import annotations

from typing import Any

from engine.steps.base import StepContext
from engine.teardown.base import TeardownStep
from engine.teardown.common import delete_recorded, ours_in_erpnext


class DeleteRecorded(TeardownStep):
    """Delete every recorded `doctype` document (newest first). Subclasses only declare (the
    preview is TeardownStep's: the recorded names)."""

    critical = True

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        # (the deprovision request kept only confirmed names of the doctypes outside the company)
        ours, gone, kept = await ours_in_erpnext(ctx, self.doctype, ctx.recorded(self.doctype))
        result = await delete_recorded(ctx, self.doctype, ours, retry_title=self.title)
        return {**result, 'already_gone': [*result['already_gone'], *gone], 'kept': kept}


class DeletePosProfiles(DeleteRecorded):
    key, title, doctype = 'delete_pos_profiles', 'Delete POS Profiles', 'POS Profile'
    after = ('remove_tenant_admin',)


class DeleteWalkinCustomer(DeleteRecorded):
    key, title, doctype = 'delete_walkin_customer', 'Delete walk-in customer', 'Customer'
    after = ('delete_pos_profiles',)


class DeletePriceList(DeleteRecorded):
    key, title, doctype = 'delete_price_list', 'Delete price list', 'Price List'
    after = ('delete_pos_profiles',)


class DeleteWarehouses(DeleteRecorded):
    key, title, doctype = 'delete_warehouses', 'Delete warehouses', 'Warehouse'
    after = ('delete_pos_profiles',)


class DeleteCostCenter(DeleteRecorded):
    key, title, doctype = 'delete_cost_center', 'Delete cost center', 'Cost Center'
    after = ('delete_pos_profiles',)


class DeleteAccounts(DeleteRecorded):
    key, title, doctype = 'delete_accounts', 'Delete created accounts', 'Account'
    after = ('release_payment_modes', 'delete_walkin_customer')
