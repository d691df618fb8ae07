"""market: buyers, offers from traced lots, buyers' demand, orders

Revision ID: market_0001
Revises: 0009_core_buyer_role
Create Date: 2026-12-07 14:10:00

The market's own branch ('market'), from the core revision that adds its buyers' role ('buyer',
0009_core_buyer_role); it depends on the trace head (its tables refer to traceability's lots and
products) without joining that branch, so trace@head stays traceability's own.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401  (rendered JSONB types use it)

import greenfin.core.types  # noqa: F401  (rendered column types use it)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'market_0001'
down_revision = '0009_core_buyer_role'
branch_labels = ('market',)
depends_on = ('trace_0009_events',)


def upgrade():
    op.create_table('market_buyers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('quota_share', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('canteen', 'processor', 'retailer')", name=op.f('ck_market_buyers_kind')),
    sa.CheckConstraint('not public or quota_share is not null', name=op.f('ck_market_buyers_public_quota')),
    sa.CheckConstraint('quota_share is null or (quota_share >= 0 and quota_share <= 100)', name=op.f('ck_market_buyers_quota_share')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_market_buyers_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_buyers')),
    sa.UniqueConstraint('party_id', name=op.f('uq_market_buyers_party_id'))
    )
    op.create_table('market_demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('delivery_from', sa.Date(), nullable=False),
    sa.Column('delivery_until', sa.Date(), nullable=False),
    sa.Column('required_certifications', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('max_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status in ('open', 'closed')", name=op.f('ck_market_demands_status')),
    sa.CheckConstraint('delivery_until >= delivery_from', name=op.f('ck_market_demands_window')),
    sa.CheckConstraint('max_price is null or max_price >= 0', name=op.f('ck_market_demands_max_price')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_market_demands_quantity_positive')),
    sa.ForeignKeyConstraint(['buyer_id'], ['parties.id'], name=op.f('fk_market_demands_buyer_id_parties')),
    sa.ForeignKeyConstraint(['product_id'], ['trace_products.id'], name=op.f('fk_market_demands_product_id_trace_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_demands'))
    )
    with op.batch_alter_table('market_demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_demands_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_demands_product_id'), ['product_id'], unique=False)

    op.create_table('market_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('available', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('delivery_from', sa.Date(), nullable=False),
    sa.Column('delivery_until', sa.Date(), nullable=False),
    sa.Column('certification_kinds', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('withdrawn_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status in ('open', 'withdrawn')", name=op.f('ck_market_offers_status')),
    sa.CheckConstraint('available >= 0 and available <= quantity', name=op.f('ck_market_offers_available')),
    sa.CheckConstraint('delivery_until >= delivery_from', name=op.f('ck_market_offers_window')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_market_offers_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_market_offers_unit_price')),
    sa.ForeignKeyConstraint(['lot_id'], ['trace_lots.id'], name=op.f('fk_market_offers_lot_id_trace_lots')),
    sa.ForeignKeyConstraint(['producer_id'], ['parties.id'], name=op.f('fk_market_offers_producer_id_parties')),
    sa.ForeignKeyConstraint(['product_id'], ['trace_products.id'], name=op.f('fk_market_offers_product_id_trace_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_offers'))
    )
    with op.batch_alter_table('market_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_offers_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_offers_producer_id'), ['producer_id'], unique=False)
        batch_op.create_index('ix_market_offers_product_status', ['product_id', 'status'], unique=False)

    op.create_table('market_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('placed_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('shipping_event', sa.String(length=100), nullable=True),
    sa.Column('receiving_event', sa.String(length=100), nullable=True),
    sa.Column('received_serials', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.CheckConstraint("status in ('placed', 'confirmed', 'shipped', 'received', 'cancelled')", name=op.f('ck_market_orders_status')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_market_orders_quantity_positive')),
    sa.ForeignKeyConstraint(['buyer_id'], ['parties.id'], name=op.f('fk_market_orders_buyer_id_parties')),
    sa.ForeignKeyConstraint(['demand_id'], ['market_demands.id'], name=op.f('fk_market_orders_demand_id_market_demands')),
    sa.ForeignKeyConstraint(['lot_id'], ['trace_lots.id'], name=op.f('fk_market_orders_lot_id_trace_lots')),
    sa.ForeignKeyConstraint(['offer_id'], ['market_offers.id'], name=op.f('fk_market_orders_offer_id_market_offers')),
    sa.ForeignKeyConstraint(['producer_id'], ['parties.id'], name=op.f('fk_market_orders_producer_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_orders'))
    )
    with op.batch_alter_table('market_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_orders_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_orders_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_orders_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_orders_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_orders_producer_id'), ['producer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('market_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_orders_producer_id'))
        batch_op.drop_index(batch_op.f('ix_market_orders_offer_id'))
        batch_op.drop_index(batch_op.f('ix_market_orders_lot_id'))
        batch_op.drop_index(batch_op.f('ix_market_orders_demand_id'))
        batch_op.drop_index(batch_op.f('ix_market_orders_buyer_id'))

    op.drop_table('market_orders')
    with op.batch_alter_table('market_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_market_offers_product_status')
        batch_op.drop_index(batch_op.f('ix_market_offers_producer_id'))
        batch_op.drop_index(batch_op.f('ix_market_offers_lot_id'))

    op.drop_table('market_offers')
    with op.batch_alter_table('market_demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_demands_product_id'))
        batch_op.drop_index(batch_op.f('ix_market_demands_buyer_id'))

    op.drop_table('market_demands')
    op.drop_table('market_buyers')
