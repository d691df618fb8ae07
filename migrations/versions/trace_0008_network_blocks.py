"""trace: client networks a regulator barred from the scan route for a period (serial guessing)

Revision ID: trace_0008_network_blocks
Revises: trace_0006
Create Date: 2026-12-07 04:00:00

The scan route answers a blocked network "paused" without checking the code
(``traceability.scan_rules.network_blocked``). Rows stay after the block ends or is lifted.
"""
import sqlalchemy as sa
from alembic import op

import greenfin.core.types

revision = 'trace_0008_network_blocks'
down_revision = 'trace_0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trace_network_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=48), nullable=False),
    sa.Column('starts_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('flag_event_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_note', sa.Text(), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_trace_network_blocks_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_trace_network_blocks_created_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_trace_network_blocks_lifted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_network_blocks'))
    )
    with op.batch_alter_table('trace_network_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_network_blocks_network'), ['network'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_network_blocks_ends_at'), ['ends_at'], unique=False)


def downgrade():
    with op.batch_alter_table('trace_network_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_network_blocks_ends_at'))
        batch_op.drop_index(batch_op.f('ix_trace_network_blocks_network'))
    op.drop_table('trace_network_blocks')
