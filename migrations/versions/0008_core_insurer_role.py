"""core: the insurer role (an insurance company's staff: products, policies, claims, payouts)

Revision ID: 0008_core_insurer_role
Revises: trace_0008_core_job_subject
Create Date: 2026-12-07 07:00:00
"""
from alembic import op

revision = '0008_core_insurer_role'
down_revision = 'trace_0008_core_job_subject'
branch_labels = None
depends_on = None

BEFORE = ("admin", "loan_officer", "producer", "regulator")
AFTER = BEFORE + ("insurer",)


def _set_roles(roles):
    check = "role in (" + ", ".join(f"'{r}'" for r in roles) + ")"
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", check)
        return
    # SQLite rebuilds the table to change a check constraint; the rows that refer to users must
    # not be deleted with the old table, so foreign keys are off (outside the transaction) meanwhile.
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
