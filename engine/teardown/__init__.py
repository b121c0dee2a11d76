"""The deprovisioning workflow: undo, in reverse dependency order, exactly what this tenant's
provisioning runs recorded creating (their write-ahead intents). A document Provisioner adopted
or never created is never deleted; shared Modes of Payment only lose this company's rows.

The deprovision preview (engine/services/deprovision.py `plan`) asks each of these steps, in this
order, for its `preview` (engine/teardown/base.py): a new step needs no edit there."""

from __future__ import annotations

from engine.teardown.base import TeardownStep
from engine.teardown.delete_company import DeleteCompany
from engine.teardown.delete_recorded_documents import (
    DeleteAccounts,
    DeleteCostCenter,
    DeletePosProfiles,
    DeletePriceList,
    DeleteWalkinCustomer,
    DeleteWarehouses,
)
from engine.teardown.release_payment_modes import ReleasePaymentModes
from engine.teardown.remove_tenant_admin import RemoveTenantAdmin

TEARDOWN_STEPS: tuple[type[TeardownStep], ...] = (
    RemoveTenantAdmin,
    DeletePosProfiles,
    DeleteWalkinCustomer,
    DeletePriceList,
    ReleasePaymentModes,
    DeleteWarehouses,
    DeleteCostCenter,
    DeleteAccounts,
    DeleteCompany,
)
TEARDOWN_TITLES = {step.key: step.title for step in TEARDOWN_STEPS}
