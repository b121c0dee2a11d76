"""How the dashboard writes times, durations, step names and alert titles (one way everywhere)."""

from __future__ import annotations

from datetime import datetime

from engine.steps import STEPS

STEP_TITLES = {step.key: step.title for step in STEPS}
ALERT_TITLES = {'success_rate_low': 'Success rate below target', 'run_stuck': 'Run stuck',
                'engine_offline': 'Engine offline', 'queue_depth_high': 'Queue too long',
                'step_failure_rate_high': 'Step failing often', 'tenant_drifted': 'Tenant drifted'}
# What an error's category means for the run, in the words of the person reading the page.
# A temporary problem's words also say how often the step retried it (`category_text`).
CATEGORY_TEXT = {'critical': 'Critical, the run stopped here',
                 'transient': 'Temporary ERPNext problem, the run stopped here',
                 'non_critical': 'Warning, optional step: the run went on without it'}


def fmt_time(value: datetime | None) -> str:
    return f'{value:%Y-%m-%d %H:%M:%S} UTC' if value else '—'


def fmt_seconds(seconds: float | None) -> str:
    """< 1 ms, 3 ms, 840 ms, 4.2 s, 2 min 05 s, 1 h 12 min."""
    if seconds is None:
        return '—'
    if seconds < 0.001:
        return '< 1 ms'
    if seconds < 1:
        return f'{seconds * 1000:.0f} ms'
    if seconds < 60:
        return f'{seconds:.1f} s'
    minutes, rest = divmod(int(round(seconds)), 60)
    return f'{minutes} min {rest:02d} s' if minutes < 60 else f'{minutes // 60} h {minutes % 60:02d} min'


def run_outcome(status: str, warnings: int | None = 0) -> str:
    """'SUCCEEDED', or 'SUCCEEDED · 1 warning' for a run an optional step failed in."""
    count = warnings or 0
    return f"{status} · {count} warning{'' if count == 1 else 's'}" if count > 0 else str(status)


def requester_text(requested_by: str | None, retried_by: str | None) -> str:
    """'admin', or 'admin, retried by sam' (a retry keeps the run and who asked for it)."""
    text = requested_by or '—'
    return f'{text}, retried by {retried_by}' if retried_by else text


def step_title(key: str | None) -> str:
    """A step's title for its key (the key itself when it is no provisioning step)."""
    return STEP_TITLES.get(key or '', key or '')


RUN_STOP_TEXT = {'critical': 'Stopped', 'transient': 'Stopped by a temporary ERPNext problem'}


def category_text(category: str | None, attempts: int | None = None) -> str:
    """What a step's error means for its run; for a temporary problem, what the step's own retries did
    ('… after 3 automatic retries of the step': `attempts` of its last execution, as the API gives them).
    Whether the run is retried is the run's to say (`next_retry_at`, `retry_hint`), not the step's."""
    text = CATEGORY_TEXT.get(category or '', 'Error')
    if category != 'transient' or attempts is None:
        return text
    retries = attempts - 1
    if retries < 1:
        return f'{text} (the step was not retried)'
    return f"{text} after {retries} automatic {'retry' if retries == 1 else 'retries'} of the step"


def run_stop_text(category: str | None) -> str:
    """How a failed run ended, before 'at step N …'."""
    return RUN_STOP_TEXT.get(category or '', 'Failed')


def without_title(message: str, title: str) -> str:
    """Step messages start with the step's title; drop it where the title is shown next to them."""
    return message.removeprefix(f'{title}: ') if title else message


def alert_title(rule: str, subject: str) -> str:
    """'Step failing often: Invite tenant admin', 'Engine offline: Sandbox', 'Success rate below target'."""
    label = ALERT_TITLES.get(rule, rule.replace('_', ' ').capitalize())
    if rule == 'step_failure_rate_high':
        subject = step_title(subject)
    elif rule in ('success_rate_low', 'queue_depth_high'):
        subject = ''  # 'all', 'queue': nothing to add
    return f'{label}: {subject}' if subject else label
