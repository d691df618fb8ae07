"""lending: score batches count the rows the intake checks reject

Revision ID: trace_0007_lending
Revises: lending_0003
Create Date: 2026-12-07 04:10:00

(Named trace_0007 by the issue #16 session's convention; it belongs to the lending chain.)
"""
import sqlalchemy as sa
from alembic import op

revision = 'trace_0007_lending'
down_revision = 'lending_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('score_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_rows', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('score_batches', schema=None) as batch_op:
        batch_op.drop_column('rejected_rows')
