"""core: the buyer role (a market buyer's staff: a public canteen, a processor, a retailer)

Revision ID: 0009_core_buyer_role
Revises: 0008_core_insurer_role
Create Date: 2026-12-07 14:10:00
"""
from alembic import op

revision = '0009_core_buyer_role'
down_revision = '0008_core_insurer_role'
branch_labels = None
depends_on = None

BEFORE = ("admin", "loan_officer", "producer", "regulator", "insurer")
AFTER = BEFORE + ("buyer",)


def _set_roles(roles):
    check = "role in (" + ", ".join(f"'{r}'" for r in roles) + ")"
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", check)
        return
    # SQLite rebuilds the table to change a check constraint (as 0008_core_insurer_role).
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), check)
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    _set_roles(AFTER)


def downgrade():
    _set_roles(BEFORE)
