"""Fixtures of the compensation tests: GEP accounts in two years and three townships."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask import g

from greenfin.extensions import db
from greenfin.gep import services as gep
from greenfin.uow import commit


@pytest.fixture
def versions():
    installed = gep.install_reference_versions()
    db.session.commit()
    return {v.code: v for v in installed}


@pytest.fixture
def district(versions, create_parcel):
    """Parcels in three townships accounted for 2024 (GF-2024) and 2025 (GF-2025); one parcel in
    xiakou grows from 4 to 6 ha in 2025 (a real quantity change), the rest are unchanged."""
    from greenfin.core import services as core

    specs = [("danan", "forest", "12"), ("danan", "orchard", "5.5"), ("hufeng", "wetland", "4"),
             ("hufeng", "forest", "8"), ("wudu", "farmland", "10"), ("wudu", "water", "3")]
    parcels = [create_parcel(township_code=t, land_cover=c, area_ha=Decimal(a)) for t, c, a in specs]
    gep.compute_accounts(2024, versions["GF-2024"])
    core.update_parcel(parcels[2], {"area_ha": Decimal("6")})
    gep.compute_accounts(2025, versions["GF-2025"])
    commit()
    return parcels


@pytest.fixture
def as_user(create_user):
    """Act as a new user of ``role`` (what the request would set): ``as_user("regulator")``."""

    def act(role="regulator"):
        user = create_user(role)
        g.user = user
        return user

    yield act
    g.pop("user", None)


@pytest.fixture
def run_scheme(drain_jobs):
    """Start a scheme's run for a period and let its job run: (run, job)."""
    from greenfin.compensation import services

    def run(scheme, period="2025"):
        started, job = services.start_run(scheme.id, period)
        commit()  # the job is dispatched after the commit: inline without Redis, else to rq
        drain_jobs()
        db.session.expire_all()
        return services.get_run(started.id), job

    return run
