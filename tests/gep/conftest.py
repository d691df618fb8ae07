"""Fixtures of the GEP tests: the reference parameter versions and parcels with attributes."""
from __future__ import annotations

import pytest

from greenfin.extensions import db
from greenfin.gep import services


@pytest.fixture
def versions():
    """The reference versions GF-2024 and GF-2025, committed (inside the test's outer transaction)."""
    installed = services.install_reference_versions()
    db.session.commit()
    return {v.code: v for v in installed}


@pytest.fixture
def gep_parcel(create_parcel):
    """A parcel with measured GEP attributes."""

    def factory(attributes=None, **overrides):
        parcel = create_parcel(**overrides)
        if attributes:
            services.set_attributes(parcel, attributes)
            db.session.commit()
        return parcel

    return factory
