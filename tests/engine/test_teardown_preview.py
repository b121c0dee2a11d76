"""Each teardown step previews its own part of the deprovision plan from what is on record; the
plan (engine/services/deprovision.py) only asks TEARDOWN_STEPS in order, so a new step shows up
there without an edit."""

from __future__ import annotations

from helpers import provision

from engine.services import deprovision
from engine.teardown import TEARDOWN_STEPS
from engine.teardown.base import TeardownRecord, TeardownStep
from engine.teardown.release_payment_modes import ReleasePaymentModes
from engine.teardown.remove_tenant_admin import RemoveTenantAdmin

ADMIN = 'ada@acme.test'
RECORD = TeardownRecord(
    intents={'Company': ['Acme Retail'], 'User': [ADMIN], 'User Permission': [f'{ADMIN}:Acme Retail'],
             'POS Profile': ['AR Store 1', 'AR Store 2'], 'Customer': ['Walk-in Customer - AR'],
             'Price List': ['AR Selling'], 'Mode of Payment': ['Bank Transfer'],
             'Warehouse': ['Store 1 - AR', 'Store 2 - AR'], 'Cost Center': ['Stores - AR'], 'Account': ['Bank - AR']},
    admin=ADMIN, payment_modes=('Bank Transfer', 'Cash'))


def deleted(preview) -> list[tuple[str, str, str]]:
    return [(entry['step'], entry['doctype'], entry['name']) for entry in preview.delete]


def test_every_teardown_step_previews_the_recorded_documents_of_its_doctype_newest_first():
    for step in TEARDOWN_STEPS:
        listed = [(doctype, name) for key, doctype, name in deleted(step.preview(RECORD)) if key == step.key]
        assert [name for doctype, name in listed if doctype == step.doctype] == RECORD.recorded(step.doctype)[::-1]
        assert 'plan' not in vars(step), f'{step.__name__}: a teardown step previews, it has no plan()'


def test_a_new_teardown_step_that_only_declares_its_doctype_previews_its_recorded_names():
    class DeleteItems(TeardownStep):
        key, title, doctype = 'delete_items', 'Delete items', 'Item'

    record = TeardownRecord(intents={'Item': ['AR Bread', 'AR Milk']}, admin=ADMIN)

    assert deleted(DeleteItems.preview(record)) == [('delete_items', 'Item', 'AR Milk'),
                                                    ('delete_items', 'Item', 'AR Bread')]


def test_the_admin_user_is_kept_while_another_live_tenant_has_it_and_deleted_by_the_last():
    shared = TeardownRecord(intents=RECORD.intents, admin=ADMIN, admin_holders=('Beta Shops', 'Woc Outlet'))
    handed_over = TeardownRecord(intents={'Company': ['Beta Shops'], 'User Permission': ['x']}, admin=ADMIN,
                                 admin_handed_over=True)
    not_ours = TeardownRecord(intents={'Company': ['Beta Shops']}, admin=ADMIN)

    kept = RemoveTenantAdmin.preview(shared)

    assert deleted(kept) == [('remove_tenant_admin', 'User Permission', f'{ADMIN} → Company Acme Retail')]
    assert kept.kept == [{'doctype': 'User', 'name': ADMIN, 'reason': "still the admin of tenant 'Beta Shops', "
                          "tenant 'Woc Outlet': the last of them to go deletes it"}]
    assert deleted(RemoveTenantAdmin.preview(handed_over)) == [
        ('remove_tenant_admin', 'User Permission', f'{ADMIN} → Company Beta Shops'),
        ('remove_tenant_admin', 'User', ADMIN)]
    assert RemoveTenantAdmin.preview(not_ours).delete == [] == RemoveTenantAdmin.preview(not_ours).kept


def test_shared_payment_modes_lose_the_companys_row_and_only_a_mode_we_made_is_listed_for_deletion():
    preview = ReleasePaymentModes.preview(RECORD)

    assert [(entry['name'], entry['change']) for entry in preview.change] == [
        ('Bank Transfer', 'remove the account row of Acme Retail'), ('Cash', 'remove the account row of Acme Retail')]
    assert deleted(preview) == [('release_payment_modes', 'Mode of Payment', 'Bank Transfer')]
    no_company = TeardownRecord(intents={}, admin=ADMIN, payment_modes=('Cash',))
    assert ReleasePaymentModes.preview(no_company).change == []  # no company of ours: no row of ours either


async def test_the_plan_is_the_steps_previews_in_teardown_order(db, runner, make_tenant):
    acme = make_tenant('Acme Retail', stores=2, admin_email=ADMIN)
    await provision(db, runner, acme.id)

    planned = deprovision.plan(db, acme.id)

    order = [step.key for step in TEARDOWN_STEPS]
    keys = [entry['step'] for entry in planned['delete']]
    assert keys == sorted(keys, key=order.index)
    assert {entry['doctype'] for entry in planned['delete']} == {
        step.doctype for step in TEARDOWN_STEPS if step.key in keys} | {'User Permission'}
    assert planned['delete'][-1] == {'step': 'delete_company', 'doctype': 'Company', 'name': 'Acme Retail'}
    assert planned['note'] == deprovision.PLAN_NOTE
