"""lending: a repayment's source (borrower or insurance payout) and the insured discount of a decision

Revision ID: insurance_lending_0001
Revises: lending_0003
Create Date: 2026-12-07 03:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'insurance_lending_0001'
down_revision = 'trace_0007_lending'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loan_repayments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='borrower', nullable=False))
    with op.batch_alter_table('loan_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('insurance_discount', sa.Numeric(precision=8, scale=6), nullable=True))


def downgrade():
    with op.batch_alter_table('loan_decisions', schema=None) as batch_op:
        batch_op.drop_column('insurance_discount')
    with op.batch_alter_table('loan_repayments', schema=None) as batch_op:
        batch_op.drop_column('source')
