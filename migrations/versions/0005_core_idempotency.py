"""core: idempotency keys of API writes, stored with the work they answer

Revision ID: 0005_core_idempotency
Revises: 0002_core_jobs
Create Date: 2026-12-07 01:10:00
"""
import sqlalchemy as sa
from alembic import op

from greenfin.core.types import UTCDateTime

revision = '0005_core_idempotency'
down_revision = '0002_core_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('principal', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=128), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
        sa.UniqueConstraint('principal', 'key', name=op.f('uq_idempotency_keys_principal_key')),
    )


def downgrade():
    op.drop_table('idempotency_keys')
