"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from greenfin.extensions import db, include_name


def test_models_and_migrations_agree(db_session):
    connection = db_session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True,
                                                             "include_name": include_name})
    assert compare_metadata(context, db.metadata) == []


