"""QA finding 16: provisioner_runs_total counts executions (a retried run's failed attempt too), while
provisioner_runs_finished counts runs by their final outcome, as the dashboard's success rate does."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from engine.services import runs, stats
from engine.services.overview import overview, success_rate
from storage.tables import Run, utcnow
from tests.engine.helpers import fault, provision, resume
from tests.observability.conftest import value


def finished(samples, window: str, outcome: str) -> float:
    return value(samples, 'provisioner_runs_finished', window=window, outcome=outcome)


async def test_a_run_that_failed_then_succeeded_counts_two_executions_and_one_success(
        db, runner, make_tenant, sandbox, scraper):
    acme, beta, gamma = make_tenant('Acme Retail'), make_tenant('Beta Shops'), make_tenant('Gamma Goods')
    rule = await fault(sandbox, method='POST', doctype='Company', status=403, count=1)
    before = await scraper.samples()

    failed = await provision(db, runner, acme.id)
    await sandbox.delete(f'/__sandbox__/faults/{rule["id"]}')
    runs.retry_run(db, failed['id'], actor='tests')
    assert (await resume(db, runner, failed['id']))['status'] == 'SUCCEEDED'
    assert (await provision(db, runner, beta.id))['status'] == 'SUCCEEDED'
    await fault(sandbox, method='POST', doctype='Company', status=403, count=1)
    assert (await provision(db, runner, gamma.id))['status'] == 'FAILED'
    after = await scraper.samples()

    executions = {outcome: value(after, 'provisioner_runs_total', outcome=outcome)
                  - value(before, 'provisioner_runs_total', outcome=outcome) for outcome in ('succeeded', 'failed')}
    assert executions == {'succeeded': 2, 'failed': 2}
    with db.session() as session:
        dashboard = success_rate(session, since=utcnow() - timedelta(hours=24))
    assert (dashboard.succeeded, dashboard.failed) == (2, 1)
    for window in ('1h', '24h', '7d'):
        assert (finished(after, window, 'succeeded'), finished(after, window, 'failed')) == (2, 1), window


async def test_each_window_counts_only_the_runs_finished_within_it(db, runner, make_tenant, scraper):
    tenants = [make_tenant() for _ in range(3)]
    for tenant in tenants:
        assert (await provision(db, runner, tenant.id))['status'] == 'SUCCEEDED'
    with db.session() as session:
        ids = list(session.exec(select(Run.id).order_by(Run.id)).all())
        session.get(Run, ids[0]).finished_at = utcnow() - timedelta(days=2)
        session.get(Run, ids[1]).finished_at = utcnow() - timedelta(hours=3)

    samples = await scraper.samples()

    assert [finished(samples, window, 'succeeded') for window in ('1h', '24h', '7d')] == [1, 2, 3]
    assert [finished(samples, window, 'failed') for window in ('1h', '24h', '7d')] == [0, 0, 0]


async def test_every_success_rate_counts_the_same_finished_outcomes(db, runner, make_tenant, sandbox, scraper):
    """One definition (storage/queries/outcomes.py) behind the Overview, the gauge and the chart: plans,
    cancelled runs and runs that finished before the window are no outcome."""
    ok, failing, planned, cancelled, old = (make_tenant() for _ in range(5))
    assert (await provision(db, runner, ok.id))['status'] == 'SUCCEEDED'
    await fault(sandbox, method='POST', doctype='Company', status=403, count=1)
    assert (await provision(db, runner, failing.id))['status'] == 'FAILED'
    assert (await provision(db, runner, planned.id, plan=True))['status'] == 'SUCCEEDED'
    runs.cancel_run(db, runs.request_provision(db, cancelled.id, actor='tests').id, actor='tests')
    stale = await provision(db, runner, old.id)
    with db.session() as session:
        session.get(Run, stale['id']).finished_at = utcnow() - timedelta(days=8)

    samples = await scraper.samples()
    board = overview(db)
    chart = stats.success_rate_over_time(db, since=utcnow() - timedelta(hours=24))

    assert (board.success_24h.succeeded, board.success_24h.failed) == (1, 1)
    assert (board.success_7d.succeeded, board.success_7d.failed) == (1, 1)
    assert (finished(samples, '7d', 'succeeded'), finished(samples, '7d', 'failed')) == (1, 1)
    assert (sum(point.succeeded for point in chart), sum(point.failed for point in chart)) == (1, 1)
