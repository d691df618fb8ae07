"""Background jobs of the eco-credit package. Safe to run twice."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from credit.models import RatingRun
from credit.ratings import rate_all
from greenfin.extensions import db


def run_rating(ctx, run_id: int) -> None:
    """Rate every party for the run's period (ratings already reviewed are left alone)."""
    run = db.session.get(RatingRun, run_id)
    if run is None:
        raise LookupError(f"rating run {run_id} not found")
    run.status = "started"
    ctx.progress(5, "rating")
    rated = rate_all(run, progress=ctx.progress)
    ctx.set_result(url=f"/credit/review?period={run.period.code}", data={"period": run.period.code, "rated": rated})


run_rating.label = _l("Eco-credit rating run")
