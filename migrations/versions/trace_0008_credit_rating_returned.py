"""credit: a regulator may return a computed rating (state ``returned``); the next run recomputes it

Revision ID: trace_0008_credit_returned
Revises: credit_0006
Create Date: 2026-12-07 04:00:00
"""
from alembic import op

revision = 'trace_0008_credit_returned'
down_revision = 'credit_0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credit_ratings') as batch:
        batch.drop_constraint(op.f('ck_credit_ratings_state'), type_='check')
        batch.create_check_constraint('state', "state in ('computed', 'returned', 'notice', 'published')")


def downgrade():
    op.execute("UPDATE credit_ratings SET state = 'computed' WHERE state = 'returned'")
    with op.batch_alter_table('credit_ratings') as batch:
        batch.drop_constraint(op.f('ck_credit_ratings_state'), type_='check')
        batch.create_check_constraint('state', "state in ('computed', 'notice', 'published')")
