"""Fixtures of the market tests: traceability's factories (lots from parcels) and GEP accounts."""
from __future__ import annotations

import pytest

from greenfin.dates import today as business_today
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


@pytest.fixture
def create_buyer(create_party):
    """A registered market buyer (a public canteen by default) in ``township_code``."""
    from greenfin.market import services

    def factory(kind="canteen", public=True, party=None, **party_overrides):
        party = party or create_party(**{"kind": "organisation", "name": "广丰区第一中学食堂"} | party_overrides)
        services.register_buyer({"party_id": party.id, "kind": kind, "public": public})
        db.session.commit()
        return party

    return factory


@pytest.fixture
def offer_lot(create_lot):
    """A lot with a valid green-food certificate, put on offer: ``offer_lot(quantity=..., price=...)``
    returns (lot, offer)."""
    from datetime import timedelta
    from decimal import Decimal

    from greenfin.market import services
    from traceability import services as trace

    def factory(quantity="1000", price="8.50", lot=None, **lot_overrides):
        lot = lot or create_lot(**lot_overrides)
        if not trace.lot_certifications(lot):
            trace.grant_certification({
                "kind": "green_food", "number": f"LB-{lot.id}", "issuer": "中国绿色食品发展中心", "scope": "product",
                "party_id": lot.producer_id, "product_id": lot.product_id,
                "valid_from": business_today() - timedelta(days=100), "valid_until": business_today() + timedelta(days=300)})
        offer = services.make_offer({"lot_id": lot.id, "quantity": Decimal(quantity), "unit_price": Decimal(price),
                                     "delivery_from": business_today(), "delivery_until": business_today() + timedelta(days=30)})
        db.session.commit()
        return lot, offer

    return factory
