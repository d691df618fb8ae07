"""pools: pool cut lines carry the carbon units pledged to each loan and their value

Revision ID: carbon_0002
Revises: pools_0001
Create Date: 2026-12-07 04:10:00

Plain ADD COLUMN on both dialects (no batch copy on SQLite, which would drop the
triggers that keep published cut lines unchanged).
"""
from alembic import op
import sqlalchemy as sa

revision = 'carbon_0002'
down_revision = 'pools_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('pool_cut_loans', sa.Column('carbon_tonnes', sa.Integer(), nullable=True))
    op.add_column('pool_cut_loans', sa.Column('carbon_value', sa.Numeric(precision=18, scale=2), nullable=True))


def downgrade():
    with op.batch_alter_table('pool_cut_loans', schema=None) as batch_op:
        batch_op.drop_column('carbon_value')
        batch_op.drop_column('carbon_tonnes')
