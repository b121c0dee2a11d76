"""A large CSV import is one short audit event: the counts and the created tenants as id ranges,
not a list of every id; each tenant still has its own `tenant.created` event."""

from __future__ import annotations

import json

from engine.services import audit, tenant_import
from engine.services.tenant_import import id_ranges

HEADER = 'name,country,currency,admin_email,stores,engine\n'


def csv_of(names: list[str]) -> bytes:
    return (HEADER + ''.join(f'{name},US,USD,ops@{name.lower()}.example.com,1,Main ERP\n' for name in names)).encode()


async def test_a_500_row_import_is_one_short_event_over_the_api(api, admin, engine_id, db) -> None:
    result = tenant_import.import_csv(db, csv_of([f'Shop{n:03}' for n in range(500)]), actor='admin')

    ids = sorted(tenant.id for tenant in result.created)
    answer = await api.get('/api/v1/audit', headers=admin, params={'action': 'tenant.imported'})
    assert answer.status_code == 200, answer.text
    (event,) = answer.json()['items']
    assert event['details'] == {'rows': 500, 'created': 500, 'already_existing': 0, 'invalid': 0, 'failed': 0,
                                'tenant_id_ranges': f'{ids[0]}-{ids[-1]}'}
    assert len(json.dumps(event['details'])) < 200
    assert audit.list_events(db, action='tenant.created', limit=500).total == 500  # one per tenant


def test_ids_taken_by_others_meanwhile_split_the_ranges() -> None:
    assert id_ranges([12, 9, 10, 11, 7, 20, 3, 2]) == '2-3, 7, 9-12, 20'
    assert id_ranges([5]) == '5'


def test_past_twenty_ranges_the_rest_is_counted() -> None:
    every_other = list(range(1, 100, 2))  # 50 ids, no two consecutive

    assert id_ranges(every_other) == ', '.join(str(n) for n in every_other[:20]) + ' and 30 more'
    assert id_ranges(every_other, at_most=2) == '1, 3 and 48 more'


def test_an_import_that_creates_nothing_names_no_ids(db, engine_id) -> None:
    tenant_import.import_csv(db, csv_of(['Alpha']), actor='admin')
    tenant_import.import_csv(db, csv_of(['Alpha']), actor='admin')

    newest = audit.list_events(db, action='tenant.imported').items[0]
    assert newest.details == {'rows': 1, 'created': 0, 'already_existing': 1, 'invalid': 0, 'failed': 0}
