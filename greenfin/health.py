"""Liveness and readiness for load balancers and orchestration."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from greenfin.extensions import db
from greenfin.security import PUBLIC, access

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@access(PUBLIC)
def healthz():
    """The process answers. No dependency is checked."""
    return jsonify(status="ok")


@bp.route("/readyz")
@access(PUBLIC)
def readyz():
    """The database answers, and Redis does when it is configured."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready
        db.session.rollback()
        checks["database"] = f"error: {exc.__class__.__name__}"
    if current_app.config.get("REDIS_URL"):
        from greenfin.jobs import redis_connection

        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
