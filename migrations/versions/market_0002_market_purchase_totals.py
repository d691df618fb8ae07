"""market: buyers' monthly farm-produce purchase totals (the procurement dashboard's denominator)

Revision ID: market_0002
Revises: market_0001
Create Date: 2026-12-07 14:44:08
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401  (rendered JSONB types use it)

import greenfin.core.types  # noqa: F401  (rendered column types use it)


# revision identifiers, used by Alembic.
revision = 'market_0002'
down_revision = 'market_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('market_purchase_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('recorded_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_market_purchase_totals_amount')),
    sa.ForeignKeyConstraint(['buyer_id'], ['parties.id'], name=op.f('fk_market_purchase_totals_buyer_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_purchase_totals')),
    sa.UniqueConstraint('buyer_id', 'month', name=op.f('uq_market_purchase_totals_buyer_id_month'))
    )
    with op.batch_alter_table('market_purchase_totals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_purchase_totals_buyer_id'), ['buyer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('market_purchase_totals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_purchase_totals_buyer_id'))

    op.drop_table('market_purchase_totals')
