"""GEP background jobs. Safe to run twice: an account that exists is not added again."""
from __future__ import annotations

from greenfin.extensions import db
from greenfin.gep import services


def _publisher(ctx):
    """Progress through ``ctx.progress`` without leaving the job row dirty in this job's session.

    ``JobContext.progress`` sets the ORM job's progress and, on PostgreSQL, also writes it on a
    connection of its own. If the session later autoflushed those attribute changes, this job's
    transaction would hold the jobs row and the next own-connection write would wait for it
    forever (seen with a real rq worker). Expiring the two attributes drops the pending change;
    the worker's final commit writes progress 100.
    """

    def publish(percent: int, message: str) -> None:
        ctx.progress(percent, message)
        if db.engine.dialect.name != "sqlite":
            db.session.expire(ctx.job, ["progress", "message"])

    return publish


def compute_district(ctx, year: int, version_code: str | None = None, township: str | None = None) -> None:
    """Account every parcel of the district (or one township) for ``year``, vectorised."""
    version = services.get_version(version_code) if version_code else services.default_version(year)
    result = services.compute_accounts(year, version, township=township, job_id=ctx.job_id,
                                       progress=_publisher(ctx))
    query = f"?year={year}" + (f"&township={township}" if township else "")
    ctx.set_result(url=f"/gep/{query}", data={
        "year": year, "version": result.version, "parcels": result.parcels, "created": result.created,
        "unchanged": result.unchanged, "total": str(result.total), "township": township})
