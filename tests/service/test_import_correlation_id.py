"""A CSV import's events share one correlation id (its `tenant.imported` event's), so the audit log
lists exactly the tenants one import created; tenants made otherwise are not among them."""

from __future__ import annotations

from engine.services import audit, tenant_import, tenants
from engine.validation import TenantCreate

HEADER = 'name,country,currency,admin_email,stores,engine\n'


def csv_of(names: list[str]) -> bytes:
    return (HEADER + ''.join(f'{name},US,USD,ops@{name.lower()}.example.com,1,Main ERP\n' for name in names)).encode()


async def test_the_imports_tenants_are_read_from_the_audit_api_by_its_correlation_id(api, admin, engine_id,
                                                                                    db) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json={
        'name': 'Alpha', 'country': 'US', 'currency': 'USD', 'admin_email': 'ops@alpha.example.com',
        'engine': engine_id})
    assert answer.status_code == 201, answer.text
    first = tenant_import.import_csv(db, csv_of(['Alpha', 'Beta', 'Gamma']), actor='admin')  # Alpha exists
    second = tenant_import.import_csv(db, csv_of(['Delta']), actor='admin')

    events = (await api.get('/api/v1/audit', headers=admin, params={'limit': 100})).json()['items']
    (imported,) = [event for event in events if event['action'] == 'tenant.imported'
                   and event['details']['created'] == 2]
    assert imported['correlation_id'] == first.correlation_id
    answer = await api.get('/api/v1/audit', headers=admin, params={'correlation_id': imported['correlation_id']})
    assert answer.status_code == 200, answer.text
    same_import = answer.json()['items']  # filtered by the server
    assert answer.json()['total'] == 3
    assert sorted((event['action'], event['details'].get('name')) for event in same_import) == [
        ('tenant.created', 'Beta'), ('tenant.created', 'Gamma'), ('tenant.imported', None)]
    assert sorted(event['tenant_id'] for event in same_import if event['tenant_id']) == sorted(
        tenant.id for tenant in first.created)
    created = {event['details']['name']: event['correlation_id'] for event in events
               if event['action'] == 'tenant.created'}
    assert created['Alpha'] is None  # made over the API, not by an import
    assert created['Delta'] == second.correlation_id != first.correlation_id


def test_create_tenant_puts_the_given_correlation_id_on_its_event(db, engine_id) -> None:
    data = {'country': 'US', 'currency': 'USD', 'admin_email': 'ops@example.com', 'engine': engine_id}
    tenants.create_tenant(db, TenantCreate(name='Given', **data), actor='tests', correlation_id='c0ffee')
    tenants.create_tenant(db, TenantCreate(name='Plain', **data), actor='tests')

    events = audit.list_events(db, action='tenant.created').items
    assert {event.details['name']: event.correlation_id for event in events} == {'Given': 'c0ffee', 'Plain': None}
