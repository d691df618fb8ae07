"""core: jobs record when a worker stopped in the middle of them

Revision ID: 0002_core_jobs
Revises: 0001_core
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

import greenfin.core.types

revision = '0002_core_jobs'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interrupted_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('interrupted_at')
