"""credit: API idempotency keys move to the platform's table (greenfin/idempotency.py)

Revision ID: credit_0006
Revises: credit_0005
Create Date: 2026-12-07 01:30:00

Every API write now honours Idempotency-Key through one decorator that stores the answer in
``idempotency_keys``, in the same transaction as the work; credit's own copy of that table goes.
Ledger postings and reversals keep their key on the ledger row, as before.
"""
import sqlalchemy as sa
from alembic import op

import greenfin.core.types

revision = 'credit_0006'
down_revision = 'credit_0005'
branch_labels = None
depends_on = '0005_core_idempotency'


def upgrade():
    op.drop_table('credit_idempotency_keys')


def downgrade():
    op.create_table(
        'credit_idempotency_keys',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('body', greenfin.core.types.JSONType, nullable=False),
        sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_credit_idempotency_keys')),
    )
