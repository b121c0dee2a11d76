"""name keys: tenant and engine names unique regardless of case and spacing, in the database

Adds `name_key` (storage/name_keys.py: trimmed, single-spaced, case-folded name) to `tenant` and
`engine`, fills it in Python in batches, then adds a unique index on it. Rows stored before the rule
whose names collide with an earlier row's (`Acme` and `ACME`, `Acme  Retail` and `Acme Retail`) keep
their names: the later row (higher id) gets a key no name can produce (`acme  #7`) and a warning
names it, so the service starts and new duplicates are refused from then on.

Revision ID: 0006
Revises: 0005
"""

import logging

import sqlalchemy as sa
from alembic import op

from storage.name_keys import KEY_LENGTH, collision_key, name_key

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BATCH = 1000
SHOWN = 20  # colliding rows named in the warning; the rest are counted
log = logging.getLogger('storage.migrations')
LOOK_UPS = {'tenant': "the audit log's tenant filter", 'engine': 'an engine given by name in a tenant or a CSV row'}


def upgrade() -> None:
    for table in ('engine', 'tenant'):
        _add_key_column(table)
        _fill_keys(table)
        op.create_index(f'uq_{table}_name_key', table, ['name_key'], unique=True)


def downgrade() -> None:
    for table in ('tenant', 'engine'):
        op.drop_index(f'uq_{table}_name_key', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('name_key')


def _add_key_column(table: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a NOT NULL column only with a default, and cannot drop one without copying the
        # table (which its foreign keys refuse while runs point at it): '' stays in its schema and
        # is never used, since every insert of ours computes the key (storage/tables.py).
        op.add_column(table, sa.Column('name_key', sa.String(KEY_LENGTH), nullable=False, server_default=''))
    else:
        op.add_column(table, sa.Column('name_key', sa.String(KEY_LENGTH), nullable=True))


def _fill_keys(table_name: str) -> None:
    bind = op.get_bind()
    table = sa.table(table_name, sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('name_key', sa.String))
    update = (table.update().where(table.c.id == sa.bindparam('row_id'))
              .values(name_key=sa.bindparam('key')))
    first_named: dict[str, tuple[int, str]] = {}
    collisions: list[str] = []
    last_id = 0
    while rows := bind.execute(sa.select(table.c.id, table.c.name).where(table.c.id > last_id)
                               .order_by(table.c.id).limit(BATCH)).all():
        keys = []
        for row_id, name in rows:
            key = name_key(name)
            if key in first_named:
                first_id, first_name = first_named[key]
                collisions.append(f'#{row_id} {name!r} (like #{first_id} {first_name!r})')
                key = collision_key(name, row_id)
            else:
                first_named[key] = (row_id, name)
            keys.append({'row_id': row_id, 'key': key})
        bind.execute(update, keys)
        last_id = rows[-1].id
    if bind.dialect.name != 'sqlite':
        op.alter_column(table_name, 'name_key', nullable=False, existing_type=sa.String(KEY_LENGTH))
    if collisions:
        _warn(table_name, collisions)


def _warn(table: str, collisions: list[str]) -> None:
    more = f' and {len(collisions) - SHOWN} more' if len(collisions) > SHOWN else ''
    log.warning(f'{len(collisions)} {table} row(s) have a name that differs only in case or spacing from '
                f"an earlier {table}'s: {'; '.join(collisions[:SHOWN])}{more}. They keep their names and work "
                f'as before; a look-up by name ({LOOK_UPS[table]}) finds the earlier row, and new names that '
                'collide are refused.')
