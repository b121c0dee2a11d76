"""ids never reused: engine and tenant ids on SQLite are AUTOINCREMENT

Without it SQLite hands out the largest rowid + 1, so deleting the newest engine (or tenant) and
creating another gave the new one the deleted one's id: the audit log then told of two different
engines by one id, and a bookmarked `?engine=4` showed another engine. AUTOINCREMENT keeps the
largest id ever given (in `sqlite_sequence`) and never hands it out again. A table's AUTOINCREMENT
lives in its CREATE statement, so the two tables are rebuilt (batch mode: copy, drop, rename) with
every row, id, index and constraint. PostgreSQL's sequences never hand out an id twice: nothing to do.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('engine', 'tenant')


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    with _foreign_keys_off(bind):
        # The copy keeps every id; SQLite notes the largest in `sqlite_sequence` as it copies them.
        for table in TABLES:
            with op.batch_alter_table(table, recreate='always',
                                      table_kwargs={'sqlite_autoincrement': autoincrement}):
                pass


class _foreign_keys_off:
    """SQLite refuses to drop a table other rows point at (runs at their tenant and engine) while it
    checks foreign keys, and the check can be switched off only between transactions: commit what
    the migration did so far, switch it off, rebuild in a transaction of its own, check every
    reference still finds its row, switch it on again."""

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
            raise RuntimeError(f'rebuilding {" and ".join(TABLES)} left references without their row: {broken[:5]}')
