"""stats indexes: a covering index for the per-step metrics (the step rows of the window's runs,
read without touching the table) and one for the window's provision runs

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_steprun_run_stats', 'steprun',
                    ['run_id', 'step_key', 'status', 'attempts', 'duration_ms', 'manual_by'])
    op.create_index('ix_run_mode_finished', 'run', ['mode', 'finished_at', 'status', 'started_at'])


def downgrade() -> None:
    op.drop_index('ix_run_mode_finished', table_name='run')
    op.drop_index('ix_steprun_run_stats', table_name='steprun')
