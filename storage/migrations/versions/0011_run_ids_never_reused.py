"""run ids never reused: run ids on SQLite are AUTOINCREMENT

Deleting a tenant deletes its runs, and SQLite without AUTOINCREMENT then hands the largest deleted
run id to the next run: the audit log keeps the events of deleted runs by their id, so a new run
would inherit an old run's audit trail. Its sequence starts past the largest run id the audit log
names, so the runs deleted before this upgrade are not handed out again either. The run table is
rebuilt as 0010 rebuilt engine and tenant (batch mode: copy, drop, rename; every row and id kept).
Its indexes are put back from their own CREATE statements: two are partial (one active run per
tenant, the runs with warnings), and a copy that lost a WHERE would make one-run-per-tenant unique.
Step rows keep their ids too; nothing that outlives a delete names a step row by id (audit events
name a step by its key). PostgreSQL's sequences never hand out an id twice: nothing to do.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLE = 'run'


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    indexes = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
        'ORDER BY name', (TABLE,)).all()
    with _foreign_keys_off(bind):
        for name, _sql in indexes:  # gone before the copy: batch mode would recreate them without their WHERE
            bind.exec_driver_sql(f'DROP INDEX "{name}"')
        # The copy keeps every id; SQLite notes the largest in `sqlite_sequence` as it copies them.
        with op.batch_alter_table(TABLE, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass
        for _name, sql in indexes:
            bind.exec_driver_sql(sql)
        if autoincrement:  # and past the runs deleted before this upgrade, whose events the audit log keeps
            bind.exec_driver_sql(
                "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(run_id), 0) FROM auditevent)) "
                'WHERE name = ?', (TABLE,))
            bind.exec_driver_sql(
                'INSERT INTO sqlite_sequence (name, seq) SELECT ?, max(run_id) FROM auditevent '
                'WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?) HAVING max(run_id) IS NOT NULL',
                (TABLE, TABLE))


class _foreign_keys_off:
    """SQLite refuses to drop a table other rows point at (steps at their run) while it checks foreign
    keys, and the check can be switched off only between transactions: commit what the migration did
    so far, switch it off, rebuild in a transaction of its own, check every reference still finds its
    row, switch it on again (as in 0010)."""

    def __init__(self, bind: sa.Connection) -> None:
        self.dbapi = bind.connection.dbapi_connection

    def __enter__(self) -> None:
        self.dbapi.execute('COMMIT')
        self.dbapi.execute('PRAGMA foreign_keys=OFF')
        self.dbapi.execute('BEGIN IMMEDIATE')

    def __exit__(self, kind, *_exc) -> None:
        broken = self.dbapi.execute('PRAGMA foreign_key_check').fetchall() if kind is None else []
        self.dbapi.execute('COMMIT' if kind is None and not broken else 'ROLLBACK')
        self.dbapi.execute('PRAGMA foreign_keys=ON')
        self.dbapi.execute('BEGIN IMMEDIATE')  # the rest of the upgrade (or the caller's rollback), as Alembic expects
        if broken:
            raise RuntimeError(f'rebuilding {TABLE} left references without their row: {broken[:5]}')
