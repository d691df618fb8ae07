"""Liveness and readiness for load balancers and orchestration."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from greenfin.extensions import db
from greenfin.replica import replica_of
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
    """The database answers, and Redis does when it is configured. With ``DATABASE_REPLICA_URL`` the
    replica's state is reported too (``replica``: ok, lag or down, and where public reads go); it does
    not make the instance unready, since the primary answers those reads meanwhile."""
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
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    replica = replica_of(current_app)
    if replica is not None:  # reported, not required: without it public reads go to the primary
        state = replica.state()
        body["replica"] = {"state": "ok" if state.usable else state.reason,
                           "reads_on": "replica" if state.usable else "primary",
                           "lag_seconds": None if state.lag is None else round(state.lag, 3),
                           "max_lag_seconds": replica.max_lag}
    return jsonify(body), 200 if ready else 503
