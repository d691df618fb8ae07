"""Flask extensions, created unbound; ``create_app`` binds them.

Only extension objects and database set-up live here (the unit of work is ``greenfin.uow``); this
module imports nothing of greenfin, so any module may import it without a circle."""
from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Optional

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Select, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names on SQLite and PostgreSQL (Alembic batch mode needs them).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def include_name(name, type_, parent_names) -> bool:
    """Alembic's comparison skips monthly partitions (``<table>_pYYYYMM``, greenfin.core.partitions): they
    are made by ``flask db partitions ensure``, not declared by a model; their parent is compared."""
    return not (type_ in ("table", "index") and name and _PARTITION_NAME.search(name)
                or type_ == "index" and _PARTITION_NAME.search(parent_names.get("table_name") or ""))


_PARTITION_NAME = re.compile(r"_p[0-9]{6}($|_)")

# The engine this context's plain reads go to, set only by ``greenfin.replica.public_read()``.
READ_ENGINE: ContextVar[Optional[Engine]] = ContextVar("greenfin_read_engine", default=None)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, whose plain SELECTs inside ``greenfin.replica.public_read()`` go
    to the read replica. Anything else stays on the primary: a flush, INSERT/UPDATE/DELETE, a
    SELECT ... FOR UPDATE, text() statements, ``session.connection()``."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = READ_ENGINE.get()
        if (engine is not None and bind is None and not self._flushing and isinstance(clause, Select)
                and clause._for_update_arg is None):
            return engine
        return super().get_bind(mapper, clause, bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate(compare_type=True, render_as_batch=True, include_name=include_name)
api = Api()  # create_app sets its ERROR_SCHEMA (greenfin.errors) before binding it
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()


def advisory_lock(key: str) -> bool:
    """On PostgreSQL, wait for and take a lock on ``key`` held until the transaction ends, so
    units of work on the same key take turns; False (no lock) elsewhere: SQLite serialises
    writers itself."""
    if db.engine.dialect.name != "postgresql":
        return False
    from sqlalchemy import func, select

    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    return True


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave: foreign keys on, real BEGIN so SAVEPOINTs work, WAL for readers.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; the
    SQLAlchemy documentation's recipe hands transaction control to SQLAlchemy.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_greenfin_configured", False):
        return
    engine._greenfin_configured = True
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # Not in autocommit (e.g. Alembic's autocommit_block, where PRAGMA foreign_keys works).
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN")
