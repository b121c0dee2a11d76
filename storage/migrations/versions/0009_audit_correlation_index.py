"""audit correlation index: the audit log is filtered by correlation id

`GET /api/v1/audit?correlation_id=` and the audit page's *Correlation id* filter list the events of
one run or of one CSV import (its `tenant.imported` and each created tenant's `tenant.created`).
Without an index that read scans the whole log; with it, it reads the few matching rows.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_auditevent_correlation_id', 'auditevent', ['correlation_id'])


def downgrade() -> None:
    op.drop_index('ix_auditevent_correlation_id', table_name='auditevent')
