"""The application's database role, which does not own the tables (PostgreSQL).

Migrations run as the owner of the schema (``MIGRATION_DATABASE_URL``, see
docs/deploy.md); web and worker processes connect as another role (``DATABASE_URL``).
``grant_app_role`` gives that role exactly what the application needs, and is run
again after every ``db upgrade`` (``make serve`` does both):

- append-only tables, the ones carrying a trigger named ``<table>_insert_only``
  (ledger postings, checkpoints, audit events): SELECT and INSERT only;
- ``alembic_version``: SELECT; every other table: SELECT, INSERT, UPDATE, DELETE;
- sequences: USAGE and SELECT; functions: EXECUTE; the schema: USAGE, and nobody but
  its owner may create objects in it.

Never TRUNCATE, REFERENCES or TRIGGER, and since the role owns nothing it cannot
ALTER a table, so it can neither disable nor drop the insert-only triggers.
"""
from __future__ import annotations

from sqlalchemy import text

from greenfin.core.services import record_audit
from greenfin.errors import ValidationFailed
from greenfin.extensions import db

READ_ONLY_TABLES = ("alembic_version",)


def append_only_tables() -> list[str]:
    """Tables of the current schema guarded by an ``<table>_insert_only`` trigger."""
    return list(db.session.scalars(text(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND t.tgname = c.relname || '_insert_only' "
        "ORDER BY c.relname")))


def _check_role(role: str) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        raise ValidationFailed.field("role", "database roles exist on PostgreSQL only")
    found = db.session.execute(text(
        "SELECT r.rolsuper, EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = current_schema() "
        "AND pg_has_role(r.oid, t.tableowner, 'MEMBER')) FROM pg_roles r WHERE r.rolname = :role"),
        {"role": role}).first()
    if found is None:
        raise ValidationFailed.field("role", f"no database role {role} (create it first, see docs/deploy.md)")
    if found[0] or found[1]:
        raise ValidationFailed.field(
            "role", f"{role} is a superuser or owns the tables (or is a member of their owner): the application "
                    "must connect as a role that owns nothing")


def grant_app_role(role: str) -> dict:
    """Give ``role`` the application's privileges, and no more (see the module docstring)."""
    _check_role(role)
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    who = quote(role)
    schema = quote(db.session.scalar(text("SELECT current_schema()")))
    database = quote(db.session.scalar(text("SELECT current_database()")))
    tables = list(db.session.scalars(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")))
    append_only = append_only_tables()
    statements = [
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {database} TO {who}",
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {who}",
    ]
    for table in tables:
        if table in append_only:
            privileges = "SELECT, INSERT"
        elif table in READ_ONLY_TABLES:
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {privileges} ON TABLE {schema}.{quote(table)} TO {who}")
    for statement in statements:
        db.session.execute(text(statement))
    summary = {"role": role, "tables": len(tables), "append_only": append_only}
    record_audit("database.grant_app_role", "database_role", role, after=summary)
    return summary
