"""trace: a producer's brand authorisations are periods (renewal), revocation keeps its reason

Revision ID: trace_0004
Revises: trace_0003
Create Date: 2026-11-29 19:50:00

The unique (brand, producer) pair allowed one authorisation ever, so a lapsed one could not be
renewed; the service now refuses overlapping periods instead. Revoking an authorisation records
why, as revoking a certificate does.
"""
import sqlalchemy as sa
from alembic import op

revision = 'trace_0004'
down_revision = 'trace_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trace_brand_authorisations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_trace_brand_authorisations_brand_id_party_id'), type_='unique')
        batch_op.add_column(sa.Column('revoke_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('trace_brand_authorisations', schema=None) as batch_op:
        batch_op.drop_column('revoke_reason')
        batch_op.create_unique_constraint(op.f('uq_trace_brand_authorisations_brand_id_party_id'), ['brand_id', 'party_id'])
