"""The real links to eco-credit ratings/points and parcel GEP (skipped when those packages are not loaded)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from greenfin import installed_features
from greenfin.extensions import db
from greenfin.lending import links, services

LOADED = {m.__name__ for m in installed_features()}
needs_credit = pytest.mark.skipif("credit" not in LOADED, reason="credit package not loaded")
needs_gep = pytest.mark.skipif("greenfin.gep" not in LOADED, reason="GEP package not loaded")


@needs_credit
def test_current_colour_reads_credit_ratings(create_party):
    party = create_party()
    assert links.current_colour(party.id) is None  # a new party has no published rating


@needs_credit
def test_default_posts_points_to_the_credit_ledger(create_application, champion, monkeypatch):
    import credit.services as credit
    from credit.models import CreditPosting

    credit.ensure_rule_catalogue()
    monkeypatch.setattr(services, "APPROVE_AT", 0)
    monkeypatch.setattr(services, "REFER_AT", 0)
    app = create_application()
    services.decide_application(app)
    assert app.status == "approved"
    loan = services.book_loan(app, date(2026, 1, 10))
    services.refresh_delinquency(date(2026, 6, 1))
    postings = list(db.session.scalars(select(CreditPosting).where(CreditPosting.source_id == str(loan.id),
                                                                   CreditPosting.rule_code == "LOAN_DEFAULTED")))
    assert len(postings) == 1 and postings[0].party_id == app.party_id
    services.write_off_loan(loan, "催收无果")  # the default was already posted: not twice
    assert len(list(db.session.scalars(select(CreditPosting).where(CreditPosting.source_id == str(loan.id))))) == 1


@needs_gep
def test_parcel_gep_reads_gep_accounts(create_parcel, create_party):
    import greenfin.gep.services as gep

    party = create_party()
    parcel = create_parcel(holder_id=party.id, land_cover="forest", cert_type="forest_rights", area_ha=Decimal("120"))
    assert links.parcel_gep(parcel.id) is None
    gep.install_reference_versions()
    account = gep.compute_parcel_account(parcel.id, 2025)
    found = links.parcel_gep(parcel.id)
    assert found is not None and found.value == account.total and found.year == 2025
