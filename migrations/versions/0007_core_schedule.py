"""core: schedule_runs, one row per enqueued occurrence of a scheduled task

Revision ID: 0007_core_schedule
Revises: 0002_core_audit_append_only
Create Date: 2026-12-07 02:00:00
"""
import sqlalchemy as sa
from alembic import op

from greenfin.core.types import UTCDateTime

revision = '0007_core_schedule'
down_revision = '0002_core_audit_append_only'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'schedule_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('schedule', sa.String(length=64), nullable=False),
        sa.Column('occurrence', UTCDateTime(), nullable=False),
        sa.Column('job_id', sa.String(length=36), nullable=True),
        sa.Column('missed', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_schedule_runs_job_id_jobs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_runs')),
        sa.UniqueConstraint('schedule', 'occurrence', name=op.f('uq_schedule_runs_schedule_occurrence')),
    )


def downgrade():
    op.drop_table('schedule_runs')
