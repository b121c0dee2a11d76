"""Structured logs: every line of a run is JSON with the run's correlation id, which the sandbox saw
as X-Request-ID on every request; no secret reaches a log line."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from engine.steps import STEPS
from sandbox import create_app
from storage.tables import Engine
from tests.engine.helpers import fault, provision
from tests.observability.conftest import captured_logs

API_KEY, API_SECRET = 'obs-key', 'obs-S3cret-7f3a9c'


@pytest.fixture
def sandbox_app():
    return create_app(api_keys={API_KEY: (API_SECRET, 'Administrator')})


@pytest.fixture
def engine_row(db, secrets) -> Engine:
    with db.session() as session:
        engine = Engine(name='Sandbox', base_url='http://sandbox', api_key=API_KEY,
                        api_secret_encrypted=secrets.encrypt(API_SECRET), max_concurrent_runs=16)
        session.add(engine)
    return engine


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_every_line_of_a_run_is_json_with_its_correlation_id(db, runner, make_tenant, sandbox, log_lines):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='POS Profile', status=503, count=1)

    detail = await provision(db, runner, acme.id)

    lines = parsed(log_lines)  # raises if any line is not one JSON object
    correlation_id = detail['correlation_id']
    assert detail['status'] == 'SUCCEEDED' and lines
    for line in lines:
        assert line['correlation_id'] == correlation_id, line
        assert line['run_id'] == detail['id'] and line['tenant'] == 'Acme Retail', line
        assert {'event', 'level', 'timestamp', 'logger'} <= line.keys()
    events = [line['event'] for line in lines]
    assert events[0] == 'run.started' and events[-1] == 'run.finished'

    requests = [line for line in lines if line['event'] == 'erpnext.request']
    seen = (await sandbox.get('/__sandbox__/requests')).json()
    assert len(requests) == len(seen) > 11
    assert {entry['request_id'] for entry in seen} == {correlation_id}
    assert {line['step'] for line in requests} <= {step.key for step in STEPS}  # every request is a step's
    assert {'check_engine', 'create_company', 'create_pos_profiles'} <= {line['step'] for line in requests}
    for line in requests:
        assert isinstance(line['duration_ms'], float) and line['duration_ms'] >= 0
        assert line['method'] in ('GET', 'POST', 'PUT', 'DELETE') and line['doctype']
    outcomes = [(line['method'], line['doctype'], line['outcome']) for line in requests]
    assert outcomes.count(('POST', 'POS Profile', 503)) == 1
    logged = sorted((m, d.removeprefix('method:'), o) for m, d, o in outcomes)
    assert sorted((e['method'], e['doctype'], e['status']) for e in seen) == logged


async def test_no_secret_reaches_the_log(db, runner, make_tenant, sandbox, log_lines):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='POST', doctype='Customer', status=403, count=10)
    await provision(db, runner, acme.id)
    structlog.get_logger('tests').warning('careless.call', password='hunter2-long-one', api_secret=API_SECRET,
                                          headers={'Authorization': f'token {API_KEY}:{API_SECRET}'},
                                          note=f'sent Authorization: token {API_KEY}:{API_SECRET} and Bearer abc.def',
                                          url='postgresql+psycopg://app:pg-pass-99@db.internal/provisioner')

    text = log_lines.getvalue()
    assert API_SECRET not in text and 'hunter2-long-one' not in text and 'pg-pass-99' not in text
    assert 'abc.def' not in text
    careless = parsed(log_lines)[-1]
    assert careless['password'] == '***' and careless['api_secret'] == '***'
    assert careless['headers'] == {'Authorization': '***'}
    assert careless['url'] == 'postgresql+psycopg://***@db.internal/provisioner'
    assert careless['note'] == 'sent Authorization: token *** and Bearer ***'


async def test_console_format_is_for_humans(db, runner, make_tenant):
    with captured_logs('console') as stream:
        detail = await provision(db, runner, make_tenant('Acme Retail').id)
    lines = stream.getvalue().splitlines()
    assert lines and not lines[0].lstrip().startswith('{')
    assert 'run.started' in lines[0] and f'correlation_id={detail["correlation_id"]}' in lines[0]
    assert '\x1b[' not in stream.getvalue()  # no colour codes when the stream is not a terminal


async def test_webhook_failures_never_log_the_webhook_url(db, secrets, engine_row, sandbox_app, sandbox, log_lines):
    import httpx

    from engine.alerting import Alerting
    from engine.notify import Webhook
    from engine.services import engines

    await fault(sandbox, offline=True)
    await engines.check_engine(db, secrets, engine_row.id, transport=httpx.ASGITransport(app=sandbox_app))
    unreachable = Webhook('http://hook-user:hook-token-55@127.0.0.1:9/T0/B0/path-token-66', attempts=2,
                          backoff_s=0.01, backoff_max_s=0.02)
    result = await Alerting(db, webhook=unreachable).evaluate()

    assert result.failed == 1
    failure = next(line for line in parsed(log_lines) if line['event'] == 'alert.notify_failed')
    assert failure['error'] == 'ConnectError'
    assert 'hook-token-55' not in log_lines.getvalue() and 'path-token-66' not in log_lines.getvalue()
