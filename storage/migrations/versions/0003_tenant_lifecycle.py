"""tenant lifecycle: drift flag and detail (statuses DEPROVISIONING / DEPROVISIONED and run mode
'deprovision' are new values of existing string columns)

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenant') as batch:
        batch.add_column(sa.Column('drifted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('drift_detail', sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column('drift_checked_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenant') as batch:
        batch.drop_column('drift_checked_at')
        batch.drop_column('drift_detail')
        batch.drop_column('drifted')
