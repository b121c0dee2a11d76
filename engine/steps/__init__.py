"""The provisioning workflow: eleven steps in the order of DESIGN.md.

A 12th step is one new module plus one line in STEPS.
"""

from engine.steps.base import Step, StepContext, TenantSpec
from engine.steps.check_engine import CheckEngine
from engine.steps.configure_payment_modes import ConfigurePaymentModes
from engine.steps.create_company import CreateCompany
from engine.steps.create_pos_profiles import CreatePosProfiles
from engine.steps.create_price_list import CreatePriceList
from engine.steps.create_walkin_customer import CreateWalkinCustomer
from engine.steps.create_warehouses import CreateWarehouses
from engine.steps.ensure_cost_center import EnsureCostCenter
from engine.steps.invite_tenant_admin import InviteTenantAdmin
from engine.steps.resolve_accounts import ResolveAccounts
from engine.steps.verify_provisioning import VerifyProvisioning

STEPS: tuple[type[Step], ...] = (
    CheckEngine,
    CreateCompany,
    ResolveAccounts,
    EnsureCostCenter,
    CreateWarehouses,
    ConfigurePaymentModes,
    CreatePriceList,
    CreateWalkinCustomer,
    CreatePosProfiles,
    InviteTenantAdmin,
    VerifyProvisioning,
)
STEP_BY_KEY = {step.key: step for step in STEPS}
STEP_TITLES = {step.key: step.title for step in STEPS}

__all__ = ['STEPS', 'STEP_BY_KEY', 'STEP_TITLES', 'Step', 'StepContext', 'TenantSpec']
