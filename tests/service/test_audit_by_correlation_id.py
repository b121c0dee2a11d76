"""`GET /api/v1/audit?correlation_id=` lists exactly the events of one CSV import (or one run), on the
server, however many other events the log holds; a bad value is a 422 naming the field."""

from __future__ import annotations

from sqlalchemy import inspect

from engine.services import runs, tenant_import

HEADER = 'name,country,currency,admin_email,stores,engine\n'


def csv_of(names: list[str]) -> bytes:
    return (HEADER + ''.join(f'{name},US,USD,ops@{name.lower()}.example.com,1,Main ERP\n' for name in names)).encode()


async def _audit(api, admin, **params):
    return await api.get('/api/v1/audit', headers=admin, params=params)


async def test_one_imports_events_are_listed_by_its_correlation_id(api, admin, engine_id, db) -> None:
    first = tenant_import.import_csv(db, csv_of([f'Shop{n:03}' for n in range(120)]), actor='admin')
    tenant_import.import_csv(db, csv_of(['Other']), actor='admin')

    answer = await _audit(api, admin, correlation_id=first.correlation_id, limit=5)
    rest = await _audit(api, admin, correlation_id=first.correlation_id, limit=500, offset=5)

    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page['total'] == 121  # the import's tenant.imported and its 120 tenant.created
    events = page['items'] + rest.json()['items']
    assert {event['correlation_id'] for event in events} == {first.correlation_id}
    assert events[0]['action'] == 'tenant.imported'  # newest first: the import is written last
    assert sorted(event['tenant_id'] for event in events[1:]) == sorted(tenant.id for tenant in first.created)


async def test_a_runs_events_share_its_correlation_id_and_filters_combine(api, admin, engine_id, db) -> None:
    tenant = (await api.post('/api/v1/tenants', headers=admin, json={
        'name': 'Alpha', 'country': 'US', 'currency': 'USD', 'admin_email': 'ops@alpha.example.com',
        'engine': engine_id})).json()
    run = runs.request_provision(db, tenant['id'], actor='admin')
    runs.cancel_run(db, run.id, actor='admin')

    of_run = (await _audit(api, admin, correlation_id=run.correlation_id)).json()
    cancelled = (await _audit(api, admin, correlation_id=run.correlation_id, action='run.cancelled')).json()

    assert [event['action'] for event in of_run['items']] == ['run.cancelled', 'run.provision_requested']
    assert [event['action'] for event in cancelled['items']] == ['run.cancelled']
    unknown = (await _audit(api, admin, correlation_id='0' * 32)).json()
    assert unknown == {'items': [], 'total': 0}
    blank = (await _audit(api, admin, correlation_id=' ')).json()  # empty is the same as leaving it out
    assert blank['total'] == (await _audit(api, admin)).json()['total'] > of_run['total']


async def test_a_bad_correlation_id_is_a_422_naming_the_field(api, admin) -> None:
    for bad in ('a' * 65, 'abc\x00', 'tab\there'):
        answer = await _audit(api, admin, correlation_id=bad)

        assert answer.status_code == 422, (bad, answer.text)
        assert [error['field'] for error in answer.json()['errors']] == ['correlation_id'], answer.text


def test_the_log_has_an_index_on_the_correlation_id(db) -> None:
    indexes = inspect(db.engine).get_indexes('auditevent')
    assert ['correlation_id'] in [index['column_names'] for index in indexes]
