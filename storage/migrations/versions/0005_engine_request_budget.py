"""engine request budget: each engine's outbound requests per second (was a process-wide 50)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('engine') as batch:
        batch.add_column(sa.Column('requests_per_second', sa.Integer(), nullable=False, server_default='50'))


def downgrade() -> None:
    with op.batch_alter_table('engine') as batch:
        batch.drop_column('requests_per_second')
