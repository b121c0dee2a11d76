"""Repair puts back what the tenant needs: its own warehouses and POS profiles disabled in ERPNext
are enabled again, instead of verification failing on them over and over."""

from __future__ import annotations

from engine import drift
from tests.engine.helpers import documents, provision, steps


async def test_repair_enables_the_tenants_disabled_warehouse_and_pos_profile(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    for doctype, name in (('Warehouse', 'Store 2 - AR'), ('POS Profile', 'AR Store 1')):
        (await sandbox.put(f'/api/resource/{doctype}/{name}', json={'disabled': 1})).raise_for_status()

    repaired = await provision(db, runner, acme.id)

    assert repaired['status'] == 'SUCCEEDED', repaired.get('error_message')
    assert steps(repaired)['verify_provisioning']['status'] == 'SUCCEEDED'
    warehouses = {doc['name']: doc for doc in await documents(sandbox, 'Warehouse')}
    profiles = {doc['name']: doc for doc in await documents(sandbox, 'POS Profile')}
    assert not warehouses['Store 2 - AR'].get('disabled') and not profiles['AR Store 1'].get('disabled')


async def test_verification_says_which_problem_a_warehouse_has(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    first = await provision(db, runner, acme.id)
    assert first['status'] == 'SUCCEEDED'
    (await sandbox.put('/api/resource/Warehouse/Store 1 - AR', json={'disabled': 1})).raise_for_status()

    report = await drift.check_tenant(db, runner.client_for, acme.id)  # the verification alone

    assert "warehouse 'Store 1 - AR' is disabled" in (report.detail or '')
