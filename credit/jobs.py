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


def run_intake(ctx, intake_id: int) -> None:
    """Post a bulk intake file chunk by chunk (each chunk committed; a retry resumes after the last)."""
    from credit.intake import run_intake as run

    ctx.progress(1, "reading")
    counts = run(intake_id, progress=ctx.progress)
    ctx.set_result(url=f"/credit/intakes/{intake_id}", data={"intake_id": intake_id, **counts})


run_intake.label = _l("Eco-credit bulk intake")
