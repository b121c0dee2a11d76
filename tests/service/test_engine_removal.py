"""Removing an engine: only while no tenant uses it, audited, its alert resolved, its client dropped;
reading one engine; and engine URLs that point at link-local / cloud metadata addresses."""

from __future__ import annotations

import httpx
import pytest
from api_helpers import make_user, tenant_body

from engine.alerting import Alerting
from engine.clients import EngineClients
from engine.services import engines
from engine.services.alerts import open_alerts, recent_alerts
from engine.validation import EngineCreate, NotFound
from storage.tables import Engine

ENGINE = {'base_url': 'https://typo.example.com', 'api_key': 'k', 'api_secret': 's'}


async def add_engine(api, admin, name: str, **fields) -> httpx.Response:
    return await api.post('/api/v1/engines', headers=admin, json={**ENGINE, 'name': name, **fields})


async def test_an_unused_engine_is_deleted_and_audited(api, admin, engine_id) -> None:
    typo = (await add_engine(api, admin, 'Typo ERP')).json()['id']

    deleted = await api.delete(f'/api/v1/engines/{typo}', headers=admin)

    assert deleted.status_code == 204 and deleted.content == b''
    assert (await api.get(f'/api/v1/engines/{typo}', headers=admin)).status_code == 404
    assert [e['name'] for e in (await api.get('/api/v1/engines', headers=admin)).json()] == ['Main ERP']
    [event] = (await api.get('/api/v1/audit', headers=admin, params={'action': 'engine.deleted'})).json()['items']
    assert event['actor'] == 'admin'
    assert event['details'] == {'engine_id': typo, 'name': 'Typo ERP', 'base_url': 'https://typo.example.com',
                                'alerts_resolved': 0}
    again = await api.delete(f'/api/v1/engines/{typo}', headers=admin)
    assert again.status_code == 404 and again.json() == {'detail': f'no engine with id {typo}'}


async def test_an_engine_with_tenants_is_kept_with_a_409_naming_how_many(api, admin, engine_id) -> None:
    for name in ('Acme Retail', 'Beta Shops'):
        assert (await api.post('/api/v1/tenants', headers=admin, json=tenant_body(name))).status_code == 201

    refused = await api.delete(f'/api/v1/engines/{engine_id}', headers=admin)

    assert refused.status_code == 409
    assert refused.json()['detail'].startswith("engine 'Main ERP' is used by 2 tenants: ")
    assert (await api.get(f'/api/v1/engines/{engine_id}', headers=admin)).json()['name'] == 'Main ERP'
    audit = (await api.get('/api/v1/audit', headers=admin, params={'action': 'engine.deleted'})).json()
    assert audit['items'] == []


async def test_only_admins_delete_and_every_role_reads_one_engine(api, admin, engine_id) -> None:
    support = await make_user(api, admin, 'sam', 'support')
    manager = await make_user(api, admin, 'mia', 'manager')

    read = await api.get(f'/api/v1/engines/{engine_id}', headers=manager)
    refused = [await api.delete(f'/api/v1/engines/{engine_id}', headers=h) for h in (support, manager)]

    assert read.status_code == 200
    assert read.json()['name'] == 'Main ERP' and 'api_secret' not in read.text and 'secret-1' not in read.text
    assert [answer.status_code for answer in refused] == [403, 403]
    assert (await api.get(f'/api/v1/engines/{engine_id}', headers=admin)).status_code == 200


@pytest.mark.parametrize('bad_id', ['0', '-1', 'abc', str(2**63)])
async def test_a_bad_engine_id_is_a_422_not_a_500(api, admin, bad_id) -> None:
    for method in ('GET', 'DELETE'):
        answer = await api.request(method, f'/api/v1/engines/{bad_id}', headers=admin)
        assert answer.status_code == 422, (method, answer.text)


async def test_deleting_an_offline_engine_resolves_its_alert(api, admin, db) -> None:
    typo = (await add_engine(api, admin, 'Typo ERP')).json()['id']
    assert (await api.post(f'/api/v1/engines/{typo}/check', headers=admin)).json()['health'] == 'offline'
    alerting = Alerting(db)
    await alerting.evaluate()
    assert [(a.rule, a.subject) for a in open_alerts(db)] == [('engine_offline', 'Typo ERP')]

    assert (await api.delete(f'/api/v1/engines/{typo}', headers=admin)).status_code == 204
    assert open_alerts(db) == []
    after = await alerting.evaluate()

    assert after.opened == [] and open_alerts(db) == []
    [alert] = recent_alerts(db)
    assert alert.resolved_at is not None
    [event] = (await api.get('/api/v1/audit', headers=admin, params={'action': 'engine.deleted'})).json()['items']
    assert event['details']['alerts_resolved'] == 1


async def test_a_deleted_engine_gets_no_client_any_more(db, secrets) -> None:
    engine = engines.create_engine(db, secrets, EngineCreate(name='Typo ERP', **ENGINE), actor='admin')
    clients = EngineClients(db, secrets)
    try:
        assert (await clients.get(engine.id)).base_url == 'https://typo.example.com'

        await engines.delete_engine(db, engine.id, actor='admin', clients=clients)

        with pytest.raises(LookupError):
            await clients.get(engine.id)  # not the cached client of an engine that is gone
    finally:
        await clients.aclose()


async def test_an_engine_deleted_during_its_health_check_is_not_an_error(db, secrets) -> None:
    engine = engines.create_engine(db, secrets, EngineCreate(name='Typo ERP', **ENGINE), actor='admin')

    def deleted_meanwhile(request: httpx.Request) -> httpx.Response:
        engines.remove_engine(db, engine.id, actor='admin')  # an admin clicks Delete while the check waits
        raise httpx.ConnectError('connection refused', request=request)

    result = await engines.check_engine(db, secrets, engine.id, transport=httpx.MockTransport(deleted_meanwhile))

    assert result.health == 'offline'
    with pytest.raises(NotFound):
        engines.get_engine(db, engine.id)


# ---- link-local and cloud metadata URLs (finding 21) ---------------------------------------------

METADATA_URLS = [
    'http://169.254.169.254/latest/meta-data', 'http://169.254.0.1:8000', 'http://[fe80::1]/',
    'http://[fe80::a:b%25eth0]:8000', 'http://metadata.google.internal/computeMetadata/v1',
    'http://METADATA.Google.Internal./', 'http://[::ffff:169.254.169.254]/', 'http://2852039166/',
    'http://0xa9.0xfe.0xa9.0xfe/',
]


@pytest.mark.parametrize('url', METADATA_URLS)
async def test_a_metadata_or_link_local_url_is_refused_on_create_and_edit(api, admin, db, engine_id,
                                                                         url) -> None:
    created = await add_engine(api, admin, 'Cloud', base_url=url)
    edited = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin, json={'base_url': url})

    for answer in (created, edited):
        assert answer.status_code == 422, answer.text
        detail = answer.json()['detail']
        assert detail.startswith('base_url: must not point at ') and 'link-local' in detail
    assert [(e.name, e.base_url) for e in engines.list_engines(db)] == [('Main ERP', 'https://erp.example.com')]


@pytest.mark.parametrize('url', ['http://10.0.0.5:8000', 'http://192.168.1.20', 'http://127.0.0.1:8001',
                                 'http://[::1]:8000', 'http://172.16.0.9', 'https://metadata.example.com'])
async def test_private_and_loopback_urls_stay_allowed(api, admin, engine_id, url) -> None:
    created = await add_engine(api, admin, 'Private ERP', base_url=url)
    edited = await api.patch(f'/api/v1/engines/{engine_id}', headers=admin, json={'base_url': url})

    assert (created.status_code, edited.status_code) == (201, 200), (created.text, edited.text)
    assert created.json()['base_url'] == edited.json()['base_url'] == url


@pytest.mark.parametrize('url', ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]:8000',
                                 'http://metadata.google.internal', 'http://ops:hunter2@erp.example.com'])
async def test_checking_an_engine_saved_with_a_refused_url_sends_nothing_and_says_to_change_it(
        api, admin, app, db, engine_id, url) -> None:
    with db.session() as session:  # a row saved before such URLs were refused
        engine = session.get(Engine, engine_id)
        engine.base_url = url
        session.add(engine)
    sent: list[httpx.Request] = []
    app.state.erpnext_transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))

    answer = await api.post(f'/api/v1/engines/{engine_id}/check', headers=admin)

    assert answer.status_code == 200, answer.text
    check = answer.json()
    assert sent == [] and check['health'] == 'offline'
    assert check['error'].startswith("Provisioner refuses this engine's URL, so no request was sent to it: the URL "
                                     'must not ')
    assert "Change it in the engine's settings (Engines → Edit)" in check['error']
    assert 'ERPNext at' not in check['error'] and 'hunter2' not in check['error']
    stored = (await api.get(f'/api/v1/engines/{engine_id}', headers=admin)).json()
    assert (stored['health'], stored['last_error']) == ('offline', check['error'])
