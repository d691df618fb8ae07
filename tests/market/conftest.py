"""Fixtures of the market tests: traceability's factories (lots from parcels) and GEP accounts."""
from __future__ import annotations

import pytest

from greenfin.extensions import db
from tests.traceability.conftest import create_brand, create_lot, create_product, issue_labels  # noqa: F401


@pytest.fixture
def account_parcel():
    """Give a parcel a GEP account for 2025 under the reference prices."""
    from greenfin.gep import services as gep

    versions = {v.code: v for v in gep.install_reference_versions()}

    def factory(parcel):
        account = gep.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
        db.session.commit()
        return account

    return factory
