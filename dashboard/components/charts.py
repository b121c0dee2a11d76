"""Plotly figures for the metrics page, built from engine/services/stats.py results.

Each function only arranges numbers the service computed; `ui.plotly(figure)` draws it (plotly
is bundled with NiceGUI, so charts work offline). Percentages are shown as 0–100.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard.components.status import STYLES
from engine.services.stats import HistogramBar, StepStats, SuccessPoint

TARGET_COLOUR = '#c62828'
COLOURS = {'succeeded': '#2e7d32', 'failed': '#c62828', 'p50': '#2f5d8a', 'p95': '#9fb6cf',
           'error': '#c62828', 'retry': '#ef8f00'}
QUASAR_HEX = {'green-7': '#388e3c', 'red-7': '#d32f2f', 'orange-8': '#ef6c00', 'blue-7': '#1976d2',
              'blue-grey-6': '#546e7a', 'grey-6': '#757575'}
HEIGHT = 320
MARKER_SIZE = 10  # one bucket of data is one marker: it must be plain to see
TARGET_LABEL_MARGIN = 90  # px on the right of the success-rate chart for its "target 95%" label


def success_rate_figure(points: Sequence[SuccessPoint], *, bucket: str, target: float) -> go.Figure:
    """Success rate per bucket as a neutral line (gaps where nothing finished) with markers large
    enough to see when all runs fall in one bucket, each coloured by the target (green when it is
    met, red below); the target is a dashed line labelled in the right margin, clear of the data."""
    x = [point.start.strftime('%Y-%m-%d %H:%M') for point in points]  # UTC; plotly.js ignores offsets
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=x, y=[None if p.rate is None else round(p.rate * 100, 2) for p in points], mode='lines+markers',
        name='success rate', connectgaps=False, line={'color': COLOURS['p50']},
        marker={'size': MARKER_SIZE, 'color': [_against_target(p.rate, target) for p in points],
                'line': {'width': 1, 'color': 'white'}},
        customdata=[[p.succeeded, p.failed] for p in points],
        hovertemplate='%{y:.1f}% (%{customdata[0]} succeeded, %{customdata[1]} failed)<extra></extra>'))
    figure.add_hline(y=target * 100, line_dash='dash', line_color=TARGET_COLOUR)
    figure.add_annotation(text=f'target {target:.0%}', xref='paper', x=1, xanchor='left', yref='y',
                          y=target * 100, showarrow=False, font={'color': TARGET_COLOUR})
    _layout(figure, y_title='% of decided runs', x_title=f'UTC, per {bucket}')  # cancelled ones left out
    figure.update_layout(margin={'r': TARGET_LABEL_MARGIN})
    figure.update_yaxes(range=[0, 105])
    return figure


def duration_histogram_figure(bars: Sequence[HistogramBar], *, target_s: float) -> go.Figure:
    """Succeeded runs per provisioning-time bucket, with a line where the target lies."""
    figure = go.Figure(go.Bar(x=[bar.label for bar in bars], y=[bar.count for bar in bars],
                              marker_color=COLOURS['p50'], name='runs',
                              hovertemplate='%{x}: %{y} runs<extra></extra>'))
    edge = next((index for index, bar in enumerate(bars) if bar.high_s == target_s), None)
    if edge is not None:  # categories sit at 0, 1, 2 …: the target edge is half-way between two bars
        figure.add_vline(x=edge + 0.5, line_dash='dash', line_color=TARGET_COLOUR,
                         annotation_text=f'target {target_s / 60:g} min', annotation_position='top right')
    _layout(figure, y_title='succeeded runs', x_title='provisioning time')
    return figure


def step_duration_figure(steps: Sequence[StepStats]) -> go.Figure:
    """p50 and p95 duration of each step (milliseconds), steps in workflow order."""
    titles = [step.title for step in steps]
    figure = go.Figure([
        go.Bar(x=titles, y=[step.p50_ms for step in steps], name='p50', marker_color=COLOURS['p50']),
        go.Bar(x=titles, y=[step.p95_ms for step in steps], name='p95', marker_color=COLOURS['p95']),
    ])
    _layout(figure, y_title='milliseconds', x_title='step (in workflow order)')
    figure.update_layout(barmode='group')
    return figure


def step_rates_figure(steps: Sequence[StepStats]) -> go.Figure:
    """Error rate (failed / executions) and retry rate (extra attempts / executions) per step, in %."""
    titles = [step.title for step in steps]
    figure = go.Figure([
        go.Bar(x=titles, y=[_percent(step.error_rate) for step in steps], name='error rate',
               marker_color=COLOURS['error'], customdata=[[s.failed, s.executions] for s in steps],
               hovertemplate='%{y:.1f}% (%{customdata[0]} of %{customdata[1]} failed)<extra></extra>'),
        go.Bar(x=titles, y=[_percent(step.retry_rate) for step in steps], name='retry rate',
               marker_color=COLOURS['retry'], customdata=[[s.retries, s.executions] for s in steps],
               hovertemplate='%{y:.1f}% (%{customdata[0]} retries in %{customdata[1]} executions)'
                             '<extra></extra>'),
    ])
    _layout(figure, y_title='% of executions', x_title='step (in workflow order)')
    figure.update_layout(barmode='group')
    return figure


def outcomes_figure(by_status: dict[str, int]) -> go.Figure:
    """Runs per status (finished in the period, QUEUED/RUNNING now), in the dashboard's status colours."""
    statuses = list(by_status)
    colours = [QUASAR_HEX.get(STYLES.get(status, ('grey-6', ''))[0], '#757575') for status in statuses]
    figure = go.Figure(go.Bar(x=statuses, y=[by_status[s] for s in statuses], marker_color=colours,
                              text=[by_status[s] for s in statuses], textposition='auto',
                              hovertemplate='%{x}: %{y} runs<extra></extra>'))
    _layout(figure, y_title='runs', x_title='run status')
    return figure


def _layout(figure: go.Figure, *, y_title: str, x_title: str | None = None) -> None:
    figure.update_layout(template='plotly_white', height=HEIGHT, margin={'l': 50, 'r': 20, 't': 30, 'b': 60},
                         legend={'orientation': 'h', 'y': 1.12}, hovermode='closest')
    figure.update_yaxes(title_text=y_title, rangemode='tozero')
    if x_title:
        figure.update_xaxes(title_text=x_title)


def _against_target(rate: float | None, target: float) -> str:
    return COLOURS['succeeded'] if rate is None or rate >= target else COLOURS['failed']


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)
