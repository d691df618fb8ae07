"""trace: scan records keep their label and lot ids without foreign keys

Revision ID: trace_0003
Revises: trace_0002
Create Date: 2026-11-29 17:10:00

A foreign key makes every insert into trace_scans lock the referenced label and lot rows
(FOR KEY SHARE, plus a check query each): all scans of one lot queued on the lot's row and
each scan paid two more look-ups. Scans are written only by the scan path, right after it has
found the label in the same transaction, and labels and lots are never deleted; the ids stay
indexed (ix_trace_scans_label_time, ix_trace_scans_lot_time).
"""
from alembic import op

revision = 'trace_0003'
down_revision = 'trace_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trace_scans', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_trace_scans_label_id_trace_labels'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_trace_scans_lot_id_trace_lots'), type_='foreignkey')


def downgrade():
    with op.batch_alter_table('trace_scans', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_trace_scans_label_id_trace_labels'), 'trace_labels', ['label_id'], ['id'])
        batch_op.create_foreign_key(op.f('fk_trace_scans_lot_id_trace_lots'), 'trace_lots', ['lot_id'], ['id'])
