"""credit: checkpoints carry a signature made with a key outside the database

Revision ID: credit_0005
Revises: credit_0004
Create Date: 2026-12-07 09:10:00

``credit_checkpoints.signature``: HMAC-SHA256 (hex) of the checkpoint's day, previous
head, head and posting count under ``LEDGER_SIGNING_KEY`` (environment or instance
folder, never the database). Checkpoints made before this revision stay unsigned: the
table is insert-only, and signing them now would sign whatever they hold now. A plain
ADD COLUMN keeps the table (and its insert-only triggers) in place on SQLite too.
"""
from alembic import op
import sqlalchemy as sa

revision = 'credit_0005'
down_revision = 'credit_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('credit_checkpoints', sa.Column('signature', sa.String(length=64), nullable=True))


def downgrade():
    op.execute("ALTER TABLE credit_checkpoints DROP COLUMN signature")  # SQLite >= 3.35 too, table kept
