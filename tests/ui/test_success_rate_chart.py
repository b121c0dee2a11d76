"""The success-rate chart stays readable with all runs in one bucket: a marker large enough to see,
coloured by the target, and the target's label outside the plot where it hides no data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.components.charts import COLOURS, success_rate_figure
from engine.services.stats import SuccessPoint

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def point(hour: int, succeeded: int, failed: int) -> SuccessPoint:
    total = succeeded + failed
    return SuccessPoint(start=START + timedelta(hours=hour), succeeded=succeeded, failed=failed,
                        rate=succeeded / total if total else None)


def test_one_bucket_below_target_is_a_visible_red_marker() -> None:
    points = [point(0, 0, 0), point(1, 12, 1), point(2, 0, 0)]
    figure = success_rate_figure(points, bucket='hour', target=0.95)

    (trace,) = figure.data
    assert list(trace.y) == [None, 92.31, None]
    assert trace.marker.size >= 8
    assert list(trace.marker.color)[1] == COLOURS['failed']  # 92.3 % misses the 95 % target


def test_points_meeting_the_target_are_green() -> None:
    figure = success_rate_figure([point(0, 19, 1), point(1, 1, 1)], bucket='hour', target=0.95)

    assert list(figure.data[0].marker.color) == [COLOURS['succeeded'], COLOURS['failed']]


def test_the_target_label_sits_in_the_right_margin() -> None:
    figure = success_rate_figure([point(0, 12, 1)], bucket='hour', target=0.95)

    (label,) = [a for a in figure.layout.annotations if a.text == 'target 95%']
    assert (label.xref, label.x, label.xanchor, label.y) == ('paper', 1, 'left', 95)
    assert figure.layout.margin.r >= 80  # room for the label beside the plot
