"""QA pass 8, finding 5: a repair keeps its trigger (DESIGN's enum: manual) and says it is a repair in
its audit event (`repair: true`) and its run's metadata, which the run history shows as "repair"."""

from __future__ import annotations

from engine.services import audit, runs, tenant_view, tenants
from storage import run_meta
from tests.engine.helpers import provision


async def test_a_repair_is_audited_and_recorded_as_one(db, runner, make_tenant) -> None:
    acme = make_tenant('Acme Retail')
    first = await provision(db, runner, acme.id)

    repair = tenants.repair(db, acme.id, actor='sam')

    detail = runs.run_detail(db, repair.id)
    assert detail['trigger'] == 'manual' and detail['metadata'][run_meta.REPAIR] is True
    requested = {event.run_id: event.details for event in
                 audit.list_events(db, action='run.provision_requested').items}
    assert requested[repair.id] == {'trigger': 'manual', 'repair': True}
    assert requested[first['id']] == {'trigger': 'manual'}
    history = {item.id: item for item in tenant_view.run_history(db, acme.id).items}
    assert (history[repair.id].kind, history[repair.id].trigger) == ('repair', 'manual')
    assert history[first['id']].kind == 'provision'


async def test_a_repair_stays_one_when_it_is_retried(db, runner, make_tenant) -> None:
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    repair = tenants.repair(db, acme.id, actor='sam')
    runs.cancel_run(db, repair.id, actor='admin')

    runs.retry_run(db, repair.id, actor='admin')

    [item] = [item for item in tenant_view.run_history(db, acme.id).items if item.id == repair.id]
    assert (item.kind, item.trigger) == ('repair', 'retry')
