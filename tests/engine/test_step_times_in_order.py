"""QA pass 9, finding 2: a step's recorded end is when it ended, not when the checkpoint that
recorded it committed, so no step seems to start before a step it waits for ended."""

from __future__ import annotations

from datetime import timedelta

from helpers import provision, steps

from engine.workflows import WORKFLOWS
from storage.tables import RunMode


async def test_no_step_starts_before_the_steps_it_waits_for_ended(db, runner, make_tenant, sandbox):
    for stores in (1, 3):
        detail = await provision(db, runner, make_tenant(stores=stores).id)
        assert detail['status'] == 'SUCCEEDED', detail
        by_key = steps(detail)
        for step in WORKFLOWS[RunMode.PROVISION]:
            started = by_key[step.key]['started_at']
            for dependency in (*step.needs, *step.after):
                ended = by_key[dependency]['finished_at']
                assert started >= ended, (step.key, started, dependency, ended)


async def test_a_step_ends_its_duration_after_it_started(db, runner, make_tenant, sandbox):
    detail = await provision(db, runner, make_tenant().id)

    for step in detail['steps']:
        assert step['finished_at'] - step['started_at'] == timedelta(milliseconds=step['duration_ms']), step
