"""credit: bulk intake files and their per-line refusals

Revision ID: credit_0007
Revises: credit_0006
Create Date: 2026-12-07 04:00:00

``credit_intakes`` holds an uploaded CSV or JSON Lines file (gzip) and its progress: chunks
committed, rows done and the counts posted / pending / duplicate / refused, moved in the same
transaction as each chunk's postings. ``credit_intake_errors`` lists each refused line once.
"""
import sqlalchemy as sa
from alembic import op

import greenfin.core.types

revision = 'credit_0007'
down_revision = 'trace_0008_credit_returned'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_intakes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.String(length=36), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('chunk_size', sa.Integer(), nullable=False),
        sa.Column('chunks_done', sa.Integer(), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('posted', sa.Integer(), nullable=False),
        sa.Column('pending', sa.Integer(), nullable=False),
        sa.Column('duplicate', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', greenfin.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("format in ('csv', 'jsonl')", name=op.f('ck_credit_intakes_format')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_intakes_created_by_id_users')),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_credit_intakes_job_id_jobs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_intakes')),
    )
    op.create_index(op.f('ix_credit_intakes_sha256'), 'credit_intakes', ['sha256'], unique=False)
    op.create_table(
        'credit_intake_errors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['intake_id'], ['credit_intakes.id'],
                                name=op.f('fk_credit_intake_errors_intake_id_credit_intakes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_intake_errors')),
        sa.UniqueConstraint('intake_id', 'line', name=op.f('uq_credit_intake_errors_intake_id_line')),
    )


def downgrade():
    op.drop_table('credit_intake_errors')
    op.drop_index(op.f('ix_credit_intakes_sha256'), table_name='credit_intakes')
    op.drop_table('credit_intakes')
