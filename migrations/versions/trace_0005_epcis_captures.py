"""trace: EPCIS documents captured by a job (larger than TRACE_CAPTURE_INLINE_MAX events)

Revision ID: trace_0005
Revises: trace_0004
Create Date: 2026-12-01 10:00:00

A large capture answers 202 with a job; the document waits in trace_epcis_captures until the
job has checked and stored it (all or nothing), and stays as the record of what was sent.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import greenfin.core.types

revision = 'trace_0005'
down_revision = 'trace_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trace_epcis_captures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'stored', 'refused')", name=op.f('ck_trace_epcis_captures_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_trace_epcis_captures_created_by_id_users')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_trace_epcis_captures_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_epcis_captures'))
    )
    with op.batch_alter_table('trace_epcis_captures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_epcis_captures_party_id'), ['party_id'], unique=False)


def downgrade():
    with op.batch_alter_table('trace_epcis_captures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_epcis_captures_party_id'))
    op.drop_table('trace_epcis_captures')
