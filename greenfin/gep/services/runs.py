"""Starting a district GEP run: the one verb behind the page, the API and ``flask gep compute``."""
from __future__ import annotations

from typing import Optional

from greenfin.gep.services.prices import default_version, get_version
from greenfin.gep.services.totals import find_township
from greenfin.jobs import enqueue
from greenfin.job_model import Job


def start_gep_run(year: int, version_code: Optional[str] = None, township: Optional[str] = None) -> Job:
    """Queue the accounting of every parcel of the district (or one township) for ``year``.

    ``version_code`` empty: the newest price version for the year (``default_version``);
    ``township``: a code or a name, resolved here. Raises NotFound for an unknown version or
    township before anything is queued. The job runs after the unit of work commits.
    """
    version = get_version(version_code) if version_code else default_version(year)
    code = find_township(township).code if township else None
    return enqueue("greenfin.gep.jobs.compute_district", {"year": year, "version_code": version.code, "township": code},
                   title=f"GEP {year} ({version.code})" + (f" {code}" if code else ""),
                   subject=("gep.township", {"code": code, "year": year}) if code else ("gep.dashboard", {"year": year}))
