"""`provisioner_run_duration_by_outcome_seconds` carries the run's final status as `outcome` (lower
case, as `provisioner_runs_total{outcome}`), so provisioning time of succeeded runs can be charted
alone; `provisioner_run_duration_seconds` stays unlabelled (DESIGN), timing every provisioning run."""

from __future__ import annotations

import asyncio

from engine.dispatcher import Dispatcher
from engine.services import runs
from tests.engine.helpers import fault, provision, steps
from tests.observability.conftest import value

DURATION = 'provisioner_run_duration_by_outcome_seconds'
ALL_RUNS = 'provisioner_run_duration_seconds'
OUTCOMES = ('succeeded', 'failed', 'cancelled')


def counts(samples) -> dict[str, float]:
    return {outcome: value(samples, f'{DURATION}_count', outcome=outcome) for outcome in OUTCOMES}


def moved(after, before) -> dict[str, float]:
    return {outcome: after[outcome] - before[outcome] for outcome in OUTCOMES}


async def test_succeeded_and_failed_runs_are_timed_apart(db, runner, make_tenant, sandbox, scraper):
    first = await scraper.samples()
    before = counts(first)
    succeeded = await provision(db, runner, make_tenant('Acme Retail').id)
    after_success = await scraper.samples()
    await fault(sandbox, method='POST', doctype='Company', status=403, count=100)  # a critical refusal
    failed = await provision(db, runner, make_tenant('Birch Lamps').id)
    after = await scraper.samples()

    assert (succeeded['status'], failed['status']) == ('SUCCEEDED', 'FAILED')
    assert moved(counts(after_success), before) == {'succeeded': 1, 'failed': 0, 'cancelled': 0}
    assert moved(counts(after), before) == {'succeeded': 1, 'failed': 1, 'cancelled': 0}
    # Every bucket and the sum are per outcome too, and the unlabelled histogram times both runs.
    assert value(after, f'{DURATION}_bucket', outcome='succeeded', le='+Inf') >= 1
    assert value(after, f'{DURATION}_sum', outcome='succeeded') > 0
    assert value(after, f'{ALL_RUNS}_count') - value(first, f'{ALL_RUNS}_count') == 2
    assert not [labels for (name, labels) in after if name.startswith(ALL_RUNS + '_') and 'outcome' in dict(labels)]


async def test_a_cancelled_run_is_timed_as_cancelled(db, runner, make_tenant, sandbox, scraper):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Company', latency_ms=600, count=1)
    run = runs.request_provision(db, acme.id, actor='support')
    dispatcher = Dispatcher(db, runner, max_concurrent=4, owner='p1')
    before = counts(await scraper.samples())

    assert await dispatcher.tick() == [run.id]
    for _ in range(250):  # until the company step is on its way
        if steps(runs.run_detail(db, run.id))['create_company']['status'] == 'RUNNING':
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError('the company step never started')
    runs.cancel_run(db, run.id, actor='support')
    await asyncio.gather(*dispatcher.tasks.values())

    assert runs.run_detail(db, run.id)['status'] == 'CANCELLED'
    assert moved(counts(await scraper.samples()), before) == {'succeeded': 0, 'failed': 0, 'cancelled': 1}
