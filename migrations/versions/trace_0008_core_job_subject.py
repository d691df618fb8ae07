"""core: a job names the page it is about (subject endpoint and its arguments)

Revision ID: trace_0008_core_job_subject
Revises: 0007_core_schedule
Create Date: 2026-12-07 04:00:00

The jobs list and a job's page link back to the lot, batch, pool report or rating period the
job works on: ``enqueue(..., subject=(endpoint, args))`` records the page, the core never
imports the feature package.
"""
import sqlalchemy as sa
from alembic import op

from greenfin.core.types import JSONType

revision = 'trace_0008_core_job_subject'
down_revision = '0007_core_schedule'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('subject_endpoint', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('subject_args', JSONType, nullable=True))
        batch.create_index(batch.f('ix_jobs_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs') as batch:
        batch.drop_index(batch.f('ix_jobs_created_at'))
        batch.drop_column('subject_args')
        batch.drop_column('subject_endpoint')
