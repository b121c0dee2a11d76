"""Alert texts read like the dashboard: a rate has one decimal, as on the Overview's cards."""

from __future__ import annotations

from datetime import timedelta

from engine.alerting import Alerting
from engine.services.alerts import open_alerts
from storage.tables import Run, RunStatus, utcnow


def finished_runs(db, tenant, outcomes: list[str]) -> None:
    now = utcnow()
    with db.session() as session:
        for number, status in enumerate(outcomes):
            session.add(Run(tenant_id=tenant.id, engine_id=tenant.engine_id, status=status,
                            correlation_id=f'rate-{number}', started_at=now - timedelta(minutes=10),
                            finished_at=now - timedelta(minutes=5)))


async def test_the_success_rate_alert_rounds_to_one_decimal_like_the_cards(db, make_tenant) -> None:
    finished_runs(db, make_tenant(), [RunStatus.SUCCEEDED] * 11 + [RunStatus.FAILED] * 2)

    await Alerting(db).evaluate()

    [alert] = open_alerts(db)
    assert alert.rule == 'success_rate_low'
    assert alert.message.startswith('Only 84.6% of provisioning runs succeeded in the last 1 hour (11 of 13 decided '
                                    'runs: cancelled runs are not counted; ')
    assert 'the floor is 95%' in alert.message


async def test_a_whole_rate_keeps_its_decimal_too(db, make_tenant) -> None:
    finished_runs(db, make_tenant(), [RunStatus.SUCCEEDED] * 4 + [RunStatus.FAILED] * 1)

    await Alerting(db).evaluate()

    [alert] = open_alerts(db)
    assert alert.message.startswith('Only 80.0% of provisioning runs succeeded')  # as the card: 80.0%


async def test_the_success_rate_alert_counts_decided_runs_and_says_so(db, make_tenant) -> None:
    """A cancelled run is finished but not decided: 4 of 5 decided runs is 80%, whatever was cancelled."""
    finished_runs(db, make_tenant(), [RunStatus.SUCCEEDED] * 4 + [RunStatus.FAILED] + [RunStatus.CANCELLED] * 3)

    await Alerting(db).evaluate()

    [alert] = open_alerts(db)
    assert alert.message.startswith('Only 80.0% of provisioning runs succeeded in the last 1 hour (4 of 5 decided '
                                    'runs: cancelled runs are not counted; the floor is 95%). ')
