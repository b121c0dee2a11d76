"""A run queued for an engine that is offline says why it waits (QA pass 2, finding 5): the engine
refuses its API key, the health check marks it offline, the dispatcher holds its runs (an outage
fails no run) — and the run, the tenant and the tenants list name the engine and the reason."""

from __future__ import annotations

import asyncio

from api_helpers import tenant_body

from engine.services import tenants

WRONG_SECRET = 'Wrong-Secret-4711'


async def bad_engine(api, admin) -> int:
    """An engine whose ERPNext (the sandbox) refuses its key pair, checked: offline."""
    answer = await api.post('/api/v1/engines', headers=admin, json={
        'name': 'SB Bad', 'base_url': 'http://sandbox', 'api_key': 'nokey4', 'api_secret': WRONG_SECRET})
    assert answer.status_code == 201, answer.text
    engine_id = answer.json()['id']
    check = await api.post(f'/api/v1/engines/{engine_id}/check', headers=admin)
    assert check.json()['health'] == 'offline', check.text
    return engine_id


async def test_a_run_waiting_for_an_offline_engine_says_why(api, admin, provisioning, db):
    engine_id = await bad_engine(api, admin)
    tenant = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body('Badcred Co', engine='SB Bad')))
    tenant_id = tenant.json()['id']
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    await asyncio.sleep(0.3)
    await provisioning.tick()  # the dispatcher holds it: still QUEUED

    run = (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).json()
    detail = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()
    listing = tenants.list_tenants_with_runs(db).items

    assert run['status'] == 'QUEUED' and run['started_at'] is None
    waiting = run['waiting_for_engine']
    assert (waiting['engine'], waiting['engine_id']) == ('SB Bad', engine_id) and waiting['since']
    assert 'refused the API key' in waiting['reason'] and "'nokey4'" in waiting['reason']
    assert waiting['message'].startswith("Waiting: engine 'SB Bad' is offline: ERPNext at http://sandbox refused")
    assert waiting['message'].endswith('Fix it on Engines; the run starts by itself once the engine answers.')
    assert detail['status'] == 'QUEUED' and detail['waiting_for_engine'] == waiting
    assert detail['current_run']['waiting_for_engine'] == waiting
    assert [(item.tenant.name, item.waiting_for_engine) for item in listing] == [('Badcred Co', 'SB Bad')]
    assert WRONG_SECRET not in str(run) + str(detail)


async def test_a_run_of_an_online_engine_does_not_wait(api, admin, provisioning, sandbox_engine, db):
    tenant_id = (await api.post('/api/v1/tenants', headers=admin, json=tenant_body(engine='Sandbox'))).json()['id']
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']

    run = (await api.get(f'/api/v1/runs/{run_id}', headers=admin)).json()
    detail = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=admin)).json()

    assert run['waiting_for_engine'] is None and detail['waiting_for_engine'] is None
    assert tenants.list_tenants_with_runs(db).items[0].waiting_for_engine is None
