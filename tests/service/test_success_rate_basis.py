"""QA pass 8, finding 1: "finished runs" meant two things. A cancelled run is finished but not decided:
the success rate is succeeded / decided (succeeded + failed), and every place that shows it says how
many cancelled runs it left out, so its numbers add up with the metrics page's "Finished runs"."""

from __future__ import annotations

import pytest
from api_helpers import make_user

from engine.services import runs, stats
from engine.services.overview import overview
from tests.engine.helpers import fault, provision


@pytest.fixture
async def three_ends(db, runner, make_tenant, sandbox) -> None:
    """One run succeeded, one failed, one was cancelled before it started."""
    assert (await provision(db, runner, make_tenant().id))['status'] == 'SUCCEEDED'
    await fault(sandbox, method='POST', doctype='Company', status=403, count=10)
    assert (await provision(db, runner, make_tenant().id))['status'] == 'FAILED'
    cancelled = runs.request_provision(db, make_tenant().id, actor='tests')
    runs.cancel_run(db, cancelled.id, actor='tests')
    assert runs.run_detail(db, cancelled.id)['status'] == 'CANCELLED'


async def test_the_overview_counts_decided_runs_and_names_the_cancelled_one(db, three_ends) -> None:
    day = overview(db).success_24h

    assert (day.succeeded, day.failed, day.cancelled) == (1, 1, 1)
    assert (day.decided, day.finished, day.rate) == (2, 3, 0.5)
    assert day.basis == '1 of 2 decided runs (1 cancelled not counted)'


async def test_the_metrics_snapshot_uses_the_same_words(db, three_ends) -> None:
    data = stats.snapshot(db, since=stats.default_since())

    assert (data.finished, data.decided, data.success_rate) == (3, 2, 0.5)
    assert data.success_basis == overview(db).success_24h.basis


async def test_the_summary_api_gives_finished_and_decided(api, admin, three_ends) -> None:
    manager = await make_user(api, admin, 'mia', 'manager')

    body = (await api.get('/api/v1/metrics/summary', headers=manager)).json()

    assert body['success_rate'] == 0.5
    assert (body['runs']['finished'], body['runs']['decided']) == (3, 2)
    assert body['runs']['by_status']['CANCELLED'] == 1


def test_the_words_without_a_cancel_and_for_one_run() -> None:
    assert stats.success_basis(42, 2, 0) == '42 of 44 decided runs'
    assert stats.success_basis(1, 0, 0) == '1 of 1 decided run'
    assert stats.success_basis(42, 2, 1) == '42 of 44 decided runs (1 cancelled not counted)'
