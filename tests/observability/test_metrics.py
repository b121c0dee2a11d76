"""/metrics moves by exactly what a run did, and its gauges describe the whole database."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from dashboard import ops
from engine.services import engines, runs
from engine.steps import STEPS
from storage.db import Database, make_engine
from storage.tables import Run, utcnow
from tests.engine.helpers import fault, provision, steps
from tests.observability.conftest import value

STEP_KEYS = [step.key for step in STEPS]
ID_LABELS = {'tenant', 'tenant_id', 'run', 'run_id', 'user', 'user_id', 'correlation_id'}


def delta(after, before, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_one_run_moves_the_counters_by_exactly_what_happened(db, runner, make_tenant, sandbox, scraper):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=2)  # two retries
    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)  # a non-critical failure
    before = await scraper.samples()

    detail = await provision(db, runner, acme.id)

    after = await scraper.samples()
    assert detail['status'] == 'SUCCEEDED'
    assert delta(after, before, 'provisioner_runs_total', outcome='succeeded') == 1
    assert delta(after, before, 'provisioner_runs_total', outcome='failed') == 0
    assert delta(after, before, 'provisioner_run_duration_seconds_count') == 1
    assert delta(after, before, 'provisioner_run_duration_seconds_bucket', le='300.0') == 1
    assert delta(after, before, 'provisioner_run_duration_seconds_bucket', le='+Inf') == 1
    for key in STEP_KEYS:
        assert delta(after, before, 'provisioner_step_duration_seconds_count', step=key) == 1, key
        expected_retries = 2 if key == 'create_pos_profiles' else 0
        assert delta(after, before, 'provisioner_step_retries_total', step=key) == expected_retries, key
    assert steps(detail)['create_pos_profiles']['attempts'] == 3
    failures = {(dict(labels)['step'], dict(labels)['category']): v - before.get((name, labels), 0.0)
                for (name, labels), v in after.items() if name == 'provisioner_step_failures_total'}
    assert {k: v for k, v in failures.items() if v} == {('create_walkin_customer', 'non_critical'): 1}


async def test_a_failed_run_counts_as_failed_with_its_step_category(db, runner, make_tenant, sandbox, scraper):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='GET', doctype='Company', status=502, count=1)  # one retry
    await fault(sandbox, method='POST', doctype='Company', status=403, count=100)  # then a critical refusal
    before = await scraper.samples()

    detail = await provision(db, runner, acme.id)

    after = await scraper.samples()
    assert detail['status'] == 'FAILED' and detail['error_step'] == 'create_company'
    assert delta(after, before, 'provisioner_runs_total', outcome='failed') == 1
    assert delta(after, before, 'provisioner_runs_total', outcome='succeeded') == 0
    assert delta(after, before, 'provisioner_step_failures_total', step='create_company', category='critical') == 1
    assert delta(after, before, 'provisioner_step_retries_total', step='create_company') == 1
    assert delta(after, before, 'provisioner_step_duration_seconds_count', step='check_engine') == 1
    # Steps that never started are not observed.
    assert delta(after, before, 'provisioner_step_duration_seconds_count', step='resolve_accounts') == 0


async def test_plan_runs_do_not_count_as_provisioning(db, runner, make_tenant, scraper):
    acme = make_tenant('Acme Retail')
    before = await scraper.samples()
    detail = await provision(db, runner, acme.id, plan=True)
    after = await scraper.samples()
    assert detail['status'] == 'SUCCEEDED'
    assert delta(after, before, 'provisioner_runs_total', outcome='succeeded') == 0
    assert delta(after, before, 'provisioner_run_duration_seconds_count') == 0


async def test_queue_gauges_are_read_from_the_database(db, runner, make_tenant, scraper):
    tenants = [make_tenant() for _ in range(3)]
    queued = [runs.request_provision(db, t.id, actor='tests') for t in tenants]
    empty = await scraper.samples()
    assert value(empty, 'provisioner_queue_depth') == 3
    assert value(empty, 'provisioner_runs_in_progress') == 0
    assert value(empty, 'provisioner_oldest_running_run_age_seconds') == 0

    for run in queued[:2]:  # claimed by "another process": RUNNING in the database only
        runner.store.start(run.id)
    with db.session() as session:
        row = session.get(Run, queued[0].id)
        row.queued_at = row.started_at = utcnow() - timedelta(minutes=10)
        session.get(Run, queued[1].id).started_at = utcnow() - timedelta(minutes=20)  # but re-queued just now

    samples = await scraper.samples()
    assert value(samples, 'provisioner_queue_depth') == 1
    assert value(samples, 'provisioner_runs_in_progress') == 2
    assert 600 <= value(samples, 'provisioner_oldest_running_run_age_seconds') < 660
    assert value(samples, 'provisioner_process_runs_executing') == 0  # this process executes none of them


async def test_engine_up_follows_the_stored_health(db, secrets, engine_row, sandbox_app, sandbox, scraper):
    transport = httpx.ASGITransport(app=sandbox_app)
    never_checked = await scraper.samples()
    assert ('provisioner_engine_up', frozenset({('engine', 'Sandbox')})) not in never_checked

    await engines.check_engine(db, secrets, engine_row.id, transport=transport)
    assert value(await scraper.samples(), 'provisioner_engine_up', engine='Sandbox') == 1

    await fault(sandbox, offline=True)
    await engines.check_engine(db, secrets, engine_row.id, transport=transport)
    assert value(await scraper.samples(), 'provisioner_engine_up', engine='Sandbox') == 0


async def test_no_label_names_a_tenant_run_or_user(db, runner, make_tenant, scraper):
    acme = make_tenant('Acme Retail')
    detail = await provision(db, runner, acme.id)
    ids = {'Acme Retail', str(detail['id']), detail['correlation_id'], 'tests'}
    for (name, labels), _ in (await scraper.samples()).items():
        if name.startswith('provisioner_'):
            assert not ID_LABELS & {key for key, _ in labels}, name
            assert not ids & {v for _, v in labels}, (name, labels)


async def test_metrics_are_served_when_the_database_is_unreachable():
    app = FastAPI()
    app.include_router(ops.router)
    app.state.db = Database(make_engine('postgresql+psycopg://nobody@127.0.0.1:1/none', connect_args={
        'connect_timeout': 2}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://p') as client:
        response = await client.get('/metrics')
    assert response.status_code == 200 and 'provisioner_runs_total' in response.text
