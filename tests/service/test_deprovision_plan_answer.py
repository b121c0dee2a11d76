"""The deprovision plan's REST answer, whole: built from the teardown steps' previews, it must stay
exactly what operators and scripts read (every item, its order, the note)."""

from __future__ import annotations

from api_helpers import new_tenant, wait_for_run

from engine.services.deprovision import PLAN_NOTE
from engine.teardown import TEARDOWN_STEPS


def item(step: str, doctype: str, name: str, change: str | None = None) -> dict:
    return {'step': step, 'doctype': doctype, 'name': name, 'change': change}


async def test_the_plan_answer_of_a_provisioned_tenant_item_by_item(api, admin, provisioning, sandbox_engine):
    tenant_id = await new_tenant(api, admin, stores=2)
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    assert (await wait_for_run(api, admin, run_id))['status'] == 'SUCCEEDED'

    answer = await api.post(f'/api/v1/tenants/{tenant_id}/deprovision', headers=admin, json={'plan': True})

    assert answer.status_code == 200, answer.text
    admin_user, row = 'ops@acme.example.com', 'remove the account row of Acme Retail'
    assert answer.json() == {
        'tenant_id': tenant_id, 'tenant': 'Acme Retail',
        'delete': [item('remove_tenant_admin', 'User Permission', f'{admin_user} → Company Acme Retail'),
                   item('remove_tenant_admin', 'User', admin_user),
                   item('delete_pos_profiles', 'POS Profile', 'AR Store 2'),  # newest first, as the run deletes
                   item('delete_pos_profiles', 'POS Profile', 'AR Store 1'),
                   item('delete_walkin_customer', 'Customer', 'Walk-in Customer - AR'),
                   item('delete_price_list', 'Price List', 'AR Selling'),
                   item('release_payment_modes', 'Mode of Payment', 'Bank Transfer'),
                   item('delete_warehouses', 'Warehouse', 'Store 2 - AR'),
                   item('delete_warehouses', 'Warehouse', 'Store 1 - AR'),
                   item('delete_accounts', 'Account', 'Bank - AR'),
                   item('delete_company', 'Company', 'Acme Retail')],
        'change': [item('release_payment_modes', 'Mode of Payment', mode, row)
                   for mode in ('Bank Transfer', 'Cash', 'Credit Card')],
        'kept': [],
        'note': PLAN_NOTE}
    order = [step.key for step in TEARDOWN_STEPS]
    steps = [entry['step'] for entry in answer.json()['delete']]
    assert steps == sorted(steps, key=order.index)  # in the order the run executes its steps
    assert PLAN_NOTE.startswith("Only documents this tenant's runs created are deleted")
