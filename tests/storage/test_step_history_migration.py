"""Migration 0008 moves the attempts made before a retry from the run's metadata onto the step
rows (`steprun.earlier_attempts`), on SQLite and PostgreSQL, and puts them back on a downgrade."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from storage.db import MIGRATIONS, make_engine

RETRIED = {'earlier_attempts': {'create_company': 3, 'create_pos_profiles': 1}, 'retried_by': 'admin'}
# The text without the key: a tenant named so, or a message quoting it, is left alone.
MENTIONS = {'note': 'earlier_attempts is only text here'}


def test_attempts_before_a_retry_move_onto_the_step_rows_and_back(any_db_url):
    migrate(any_db_url, command.upgrade, '0007')
    engine = make_engine(any_db_url)
    try:
        with engine.begin() as connection:
            insert_history(connection)
        migrate(any_db_url, command.upgrade, 'head')
        with engine.connect() as connection:
            # (attempts, earlier attempts, executions, failures, retries): each moved count is one earlier
            # execution that failed; a step skipped by hand after it ran is folded as one too (QA pass 6)
            assert step_counters(connection) == {
                (1, 'create_company'): (1, 3, 1, 1, 2), (1, 'create_pos_profiles'): (1, 1, 1, 1, 0),
                (1, 'check_engine'): (1, 0, 0, 0, 0), (2, 'create_company'): (1, 0, 0, 0, 0),
                (2, 'create_pos_profiles'): (0, 2, 1, 1, 1), (2, 'create_walkin_customer'): (0, 0, 0, 0, 0)}
            assert metadata(connection) == {1: {'retried_by': 'admin'}, 2: MENTIONS}

        migrate(any_db_url, command.downgrade, '0007')
        with engine.connect() as connection:
            # the skipped step's folded attempts go back as attempts made before a retry
            assert metadata(connection) == {1: RETRIED, 2: {**MENTIONS, 'earlier_attempts': {'create_pos_profiles': 2}}}
            assert 'earlier_attempts' not in {c['name'] for c in sa.inspect(connection).get_columns('steprun')}
    finally:
        engine.dispose()


def migrate(url: str, action, revision: str) -> None:
    engine = make_engine(url)
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes['connection'] = connection
        action(config, revision)
        connection.commit()
    engine.dispose()


def insert_history(connection: sa.Connection) -> None:
    connection.execute(sa.text(
        "INSERT INTO engine (name, name_key, base_url, api_key, api_secret_encrypted, max_concurrent_runs, "
        "health, created_at) VALUES ('ERP', 'erp', 'http://erp', 'k', 'x', 4, 'unknown', CURRENT_TIMESTAMP)"))
    connection.execute(sa.text(
        "INSERT INTO tenant (name, name_key, company_name, country, currency, admin_email, stores, engine_id, "
        "status, created_at, updated_at) VALUES ('Acme', 'acme', 'Acme', 'Germany', 'EUR', 'a@b.test', 1, 1, "
        "'PROVISIONED', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    insert_run = sa.text(
        "INSERT INTO run (id, tenant_id, engine_id, status, mode, trigger, correlation_id, attempt, auto_retries, "
        "metadata, warnings, queued_at) VALUES (:id, 1, 1, 'SUCCEEDED', 'provision', 'retry', :id, 2, 0, :meta, "
        "0, CURRENT_TIMESTAMP)")
    connection.execute(insert_run, [{'id': 1, 'meta': json.dumps(RETRIED)}, {'id': 2, 'meta': json.dumps(MENTIONS)}])
    insert_step = sa.text(
        "INSERT INTO steprun (run_id, step_key, position, critical, status, attempts, output, manual_by) "
        "VALUES (:run, :key, :position, true, :status, :attempts, '{}', :manual_by)")
    ran = {'status': 'SUCCEEDED', 'attempts': 1, 'manual_by': None}
    connection.execute(insert_step, [{'run': 1, 'key': 'check_engine', 'position': 1, **ran},
                                     {'run': 1, 'key': 'create_company', 'position': 2, **ran},
                                     {'run': 1, 'key': 'create_pos_profiles', 'position': 10, **ran},
                                     {'run': 2, 'key': 'create_company', 'position': 2, **ran},
                                     {'run': 2, 'key': 'create_pos_profiles', 'position': 10, 'status': 'SKIPPED',
                                      'attempts': 2, 'manual_by': 'admin'},
                                     {'run': 2, 'key': 'create_walkin_customer', 'position': 9, 'status': 'SKIPPED',
                                      'attempts': 0, 'manual_by': 'admin'}])


def step_counters(connection: sa.Connection) -> dict[tuple[int, str], tuple[int, ...]]:
    rows = connection.execute(sa.text(
        'SELECT run_id, step_key, attempts, earlier_attempts, earlier_executions, earlier_failures, earlier_retries '
        'FROM steprun'))
    return {(run_id, key): tuple(counts) for run_id, key, *counts in rows}


def metadata(connection: sa.Connection) -> dict[int, dict]:
    rows = connection.execute(sa.select(sa.column('id'), sa.column('metadata', sa.JSON)).select_from(sa.table('run')))
    return {run_id: meta for run_id, meta in rows}
