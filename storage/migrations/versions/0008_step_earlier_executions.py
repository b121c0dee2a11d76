"""step earlier executions: what a step did before a retry ran it again, kept on its row

A retry (by a person or by itself) resets the failed steps of a run so that they run again, and a
person may skip or mark done a failed step. Until now the failure then vanished from the per-step
error and retry rates, which read each step's final row. Counters on `steprun` keep the earlier
executions of the step in its run (`earlier_executions`, `earlier_failures`, `earlier_retries`: their
attempts past the first, and `earlier_attempts`: all tries, attempts cut short by a cancel or a stopped
process included), and the covering index of the per-step metrics takes them in.

Runs stored before this revision: the attempts made before a retry were kept in the run's metadata
(`earlier_attempts`, step key -> count); they move onto the step rows and leave the metadata, each
count as one earlier execution that failed (a step ran again because it had failed; several retries
of one step in one run were not told apart and count as one). A step a person skipped or marked
done after it ran is folded the same way: its attempts were an execution that failed.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = ('earlier_executions', 'earlier_failures', 'earlier_retries', 'earlier_attempts')
STATS_INDEX_BEFORE = ['run_id', 'step_key', 'status', 'attempts', 'duration_ms', 'manual_by']
META_KEY = 'earlier_attempts'
BATCH = 1000


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column('steprun', sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    _move_attempts_out_of_metadata()
    _fold_steps_settled_by_hand()
    op.drop_index('ix_steprun_run_stats', table_name='steprun')
    op.create_index('ix_steprun_run_stats', 'steprun', [*STATS_INDEX_BEFORE, *COLUMNS])


def downgrade() -> None:
    _move_attempts_back_into_metadata()
    op.drop_index('ix_steprun_run_stats', table_name='steprun')
    op.create_index('ix_steprun_run_stats', 'steprun', STATS_INDEX_BEFORE)
    with op.batch_alter_table('steprun') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)


RUN = sa.table('run', sa.column('id', sa.Integer), sa.column('metadata', sa.JSON))
STEP = sa.table('steprun', sa.column('run_id', sa.Integer), sa.column('step_key', sa.String),
                sa.column('attempts', sa.Integer), sa.column('manual_by', sa.String),
                *(sa.column(name, sa.Integer) for name in COLUMNS))


def _move_attempts_out_of_metadata() -> None:
    bind, run, step = op.get_bind(), RUN, STEP
    attempts = sa.bindparam('b_attempts', type_=sa.Integer)
    set_attempts = (step.update().where(step.c.run_id == sa.bindparam('b_run'),
                                        step.c.step_key == sa.bindparam('b_key'))
                    .values(earlier_attempts=attempts, earlier_executions=1, earlier_failures=1,
                            earlier_retries=attempts - 1))
    set_meta = run.update().where(run.c.id == sa.bindparam('b_run')).values(metadata=sa.bindparam('b_meta'))
    holders = (sa.select(run.c.id, run.c.metadata)
               .where(sa.cast(run.c.metadata, sa.Text).like(f'%{META_KEY}%')).order_by(run.c.id))
    last_id = 0
    while rows := bind.execute(holders.where(run.c.id > last_id).limit(BATCH)).all():
        attempts, metas = [], []
        for run_id, meta in rows:
            earlier = (meta or {}).get(META_KEY) if isinstance(meta, dict) else None
            if not isinstance(earlier, dict):
                continue  # the text was elsewhere in the metadata (a name, a message)
            attempts += [{'b_run': run_id, 'b_key': key, 'b_attempts': int(count)}
                         for key, count in earlier.items() if isinstance(count, int) and count > 0]
            metas.append({'b_run': run_id, 'b_meta': {k: v for k, v in meta.items() if k != META_KEY}})
        if attempts:
            bind.execute(set_attempts, attempts)
        if metas:
            bind.execute(set_meta, metas)
        last_id = rows[-1].id


def _fold_steps_settled_by_hand() -> None:
    step = STEP
    op.get_bind().execute(step.update().where(step.c.manual_by.is_not(None), step.c.attempts > 0).values(
        earlier_executions=step.c.earlier_executions + 1, earlier_failures=step.c.earlier_failures + 1,
        earlier_retries=step.c.earlier_retries + step.c.attempts - 1,
        earlier_attempts=step.c.earlier_attempts + step.c.attempts, attempts=0))


def _move_attempts_back_into_metadata() -> None:
    bind, run, step = op.get_bind(), RUN, STEP
    earlier: dict[int, dict[str, int]] = {}
    for run_id, key, count in bind.execute(sa.select(step.c.run_id, step.c.step_key, step.c.earlier_attempts)
                                           .where(step.c.earlier_attempts > 0)):
        earlier.setdefault(run_id, {})[key] = count
    set_meta = run.update().where(run.c.id == sa.bindparam('b_run')).values(metadata=sa.bindparam('b_meta'))
    ids = sorted(earlier)
    for start in range(0, len(ids), BATCH):  # SQLite allows some 32,000 parameters to a statement
        batch = ids[start:start + BATCH]
        metas = bind.execute(sa.select(run.c.id, run.c.metadata).where(run.c.id.in_(batch))).all()
        bind.execute(set_meta, [{'b_run': run_id, 'b_meta': {**(meta or {}), META_KEY: earlier[run_id]}}
                                for run_id, meta in metas])
