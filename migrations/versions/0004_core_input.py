"""core: a parcel code is unique per rights holder, not across the district

Revision ID: 0004_core_input
Revises: 0005_core_idempotency
Create Date: 2026-12-07 09:00:00

A district-wide unique code let any producer learn that another party holds a parcel with a
given code (the 422 "this parcel code already exists"). Codes are now unique per holder.
"""
from alembic import op

revision = '0004_core_input'
down_revision = '0005_core_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_parcels_code'), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_parcels_holder_id_code'), ['holder_id', 'code'])


def downgrade():
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_parcels_holder_id_code'), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_parcels_code'), ['code'])
