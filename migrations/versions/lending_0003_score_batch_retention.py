"""lending: score batches record when their upload was deleted under the retention rule

Revision ID: lending_0003
Revises: lending_0002
Create Date: 2026-11-29 19:55:00

"""
import sqlalchemy as sa
from alembic import op

import greenfin.core.types

revision = 'lending_0003'
down_revision = 'lending_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('score_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('score_batches', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
