"""core: audit events are append-only in the database

Revision ID: 0002_core_audit_append_only
Revises: 0004_core_input
Create Date: 2026-12-07 09:00:00

Like the ledger (credit_0001), ``audit_events`` refuses UPDATE, DELETE and TRUNCATE:
a PostgreSQL trigger ``audit_events_insert_only`` (its name marks the table as
append-only for ``flask db grant-app-role``) and SQLite triggers raising ABORT.
The application never changes or removes an audit event; only the table owner can
drop or disable the trigger, and the application's role does not own the table.
"""
from alembic import op

revision = '0002_core_audit_append_only'
down_revision = '0004_core_input'
branch_labels = None
depends_on = None

TABLE = "audit_events"


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is insert-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$;
        """)
        op.execute(f"CREATE TRIGGER {TABLE}_insert_only BEFORE UPDATE OR DELETE ON {TABLE} "
                   f"FOR EACH ROW EXECUTE FUNCTION audit_insert_only()")
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION audit_insert_only()")
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                       f"BEGIN SELECT RAISE(ABORT, '{TABLE} is insert-only: {verb} refused'); END")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_insert_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        op.execute("DROP FUNCTION IF EXISTS audit_insert_only()")
    elif dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
