"""Background jobs of the pools package. Safe to run twice: a report is recomputed in place."""
from __future__ import annotations


from flask_babel import lazy_gettext as _l

from greenfin.pools import reporting, services


def generate_report(ctx, pool_id: int, month: str) -> None:
    """Compute and store a month's servicer report from the loans' servicing data."""
    pool = services.get_pool(pool_id)
    ctx.progress(10, "reading")
    report = reporting.generate_servicer_report(pool, month)
    ctx.progress(90, "storing")
    ctx.set_result(url=f"/pools/{pool.id}/reports/{month}",
                   data={"report_id": report.id, "pool_factor": report.figures.get("pool_factor"),
                         "closing_balance": report.figures.get("closing_balance")})


generate_report.label = _l("Servicer report")
