"""run warned index: a partial index of the runs that ended with warnings (tenants list filter)

The tenants list's `warnings` filter keeps the tenants whose current run succeeded with at least
one warning. Warnings were already counted on each run (`run.warnings`); this index holds only the
runs whose count is above zero, so the filter reads those few rows instead of every run's.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_run_warned', 'run', ['status', 'tenant_id', 'mode'],
                    sqlite_where=sa.text('warnings > 0'), postgresql_where=sa.text('warnings > 0'))


def downgrade() -> None:
    op.drop_index('ix_run_warned', table_name='run')
