"""GEP background jobs. Safe to run twice: an account that exists is not added again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from greenfin.gep import services


def compute_district(ctx, year: int, version_code: str | None = None, township: str | None = None) -> None:
    """Account every parcel of the district (or one township) for ``year``, vectorised."""
    version = services.get_version(version_code) if version_code else services.default_version(year)
    result = services.compute_accounts(year, version, township=township, job_id=ctx.job_id,
                                       progress=ctx.progress)
    query = f"?year={year}" + (f"&township={township}" if township else "")
    ctx.set_result(url=f"/gep/{query}", data={
        "year": year, "version": result.version, "parcels": result.parcels, "created": result.created,
        "unchanged": result.unchanged, "total": str(result.total), "township": township})


compute_district.label = _l("GEP accounting")
