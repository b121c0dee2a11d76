"""GET /api/v1/metrics/summary over runs the real runner made against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_helpers import make_user

from tests.engine.helpers import fault, provision

SUMMARY = '/api/v1/metrics/summary'


@pytest.fixture
async def finished_runs(db, runner, make_tenant, sandbox) -> list[dict]:
    """Two runs that succeeded (one after two retries of a POS Profile insert), one that failed at
    create_company, and a plan (never counted)."""
    details = [await provision(db, runner, make_tenant().id)]
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=2)
    details.append(await provision(db, runner, make_tenant().id))
    await fault(sandbox, method='POST', doctype='Company', status=403, count=10)
    details.append(await provision(db, runner, make_tenant().id))
    await sandbox.delete('/__sandbox__/faults')
    await provision(db, runner, make_tenant().id, plan=True)
    return details


async def test_manager_reads_the_summary_of_the_last_24_hours(api, admin, finished_runs) -> None:
    manager = await make_user(api, admin, 'mia', 'manager')

    answer = await api.get(SUMMARY, headers=manager)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body['success_rate'] == pytest.approx(2 / 3)
    assert body['runs'] == {'finished': 3, 'decided': 3,
                            'by_status': {'QUEUED': 0, 'RUNNING': 0, 'SUCCEEDED': 2, 'FAILED': 1, 'CANCELLED': 0}}
    durations = sorted((d['finished_at'] - d['started_at']).total_seconds() for d in finished_runs[:2])
    assert body['duration_seconds']['count'] == 2
    assert body['duration_seconds']['p50'] == pytest.approx(durations[0], abs=1e-3)
    assert body['duration_seconds']['p95'] == pytest.approx(durations[1], abs=1e-3)
    assert body['duration_seconds']['mean'] == pytest.approx(sum(durations) / 2, abs=1e-3)
    assert body['duration_seconds']['target'] == 300
    steps = {step['key']: step for step in body['steps']}
    assert len(steps) == 11
    assert steps['check_engine']['executions'] == 3 and steps['check_engine']['error_rate'] == 0
    assert steps['create_company']['executions'] == 3 and steps['create_company']['failed'] == 1
    assert steps['create_company']['error_rate'] == pytest.approx(1 / 3)
    assert steps['create_pos_profiles']['retries'] == 2
    assert steps['create_pos_profiles']['retry_rate'] == pytest.approx(2 / 2)
    assert steps['verify_provisioning']['executions'] == 2 and steps['verify_provisioning']['error_rate'] == 0
    since = datetime.fromisoformat(body['since'])
    window = datetime.fromisoformat(body['until']) - since
    assert timedelta(hours=23, minutes=59) < window <= timedelta(hours=24, seconds=5)


async def test_since_narrows_the_window(api, admin, finished_runs) -> None:
    later = datetime.now(UTC).astimezone(datetime.now().astimezone().tzinfo)  # after every run finished
    answer = await api.get(SUMMARY, headers=admin, params={'since': later.isoformat()})
    assert answer.status_code == 200, answer.text
    assert answer.json()['runs']['finished'] == 0 and answer.json()['success_rate'] is None

    earlier = (datetime.now(UTC) - timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None).isoformat()
    answer = await api.get(SUMMARY, headers=admin, params={'since': earlier})  # no offset: UTC
    assert answer.json()['runs']['finished'] == 3


@pytest.mark.parametrize('ahead', [timedelta(days=1500), timedelta(minutes=5)])
async def test_a_since_in_the_future_is_a_422(api, admin, ahead) -> None:
    for since in ((datetime.now(UTC) + ahead).isoformat(),
                  (datetime.now(UTC) + ahead).replace(tzinfo=None).isoformat()):  # no offset: UTC
        answer = await api.get(SUMMARY, headers=admin, params={'since': since})

        assert answer.status_code == 422, answer.text
        assert answer.json()['detail'] == 'since: must not be in the future'
        assert answer.json()['errors'] == [{'field': 'since', 'message': 'must not be in the future'}]


async def test_support_may_not_read_metrics(api, admin) -> None:
    support = await make_user(api, admin, 'sam', 'support')
    assert (await api.get(SUMMARY, headers=support)).status_code == 403
    assert (await api.get(SUMMARY)).status_code == 401


@pytest.mark.parametrize('since', ['yesterday', '2026-13-45T00:00:00', '\x00', '1e400', 'x' * 10_000,
                                   '0001-01-01T00:00:00+05:00'])  # the last one lies before year 1 in UTC
async def test_a_bad_since_is_a_422_naming_the_field(api, admin, since) -> None:
    answer = await api.get(SUMMARY, headers=admin, params={'since': since})

    assert answer.status_code == 422, answer.text
    assert 'since' in answer.json()['detail']
