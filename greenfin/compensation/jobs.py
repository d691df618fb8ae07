"""Compensation background jobs. Safe to run twice: a draft run's rows are recomputed in place."""
from __future__ import annotations

from greenfin.compensation import services


def compute_run(ctx, run_id: int) -> None:
    """Compute a compensation run's allocation rows, with progress."""
    run = services.get_run(run_id)
    ctx.progress(5, "computing")
    if not run.approved:  # an approved run stands as approved (a job retried late changes nothing)
        services.compute_run(run, progress=ctx.progress)
    ctx.set_result(url=f"/compensation/runs/{run.id}", data={"run_id": run.id, "total": str(run.total),
                                                              "rows": len(run.allocations)})
