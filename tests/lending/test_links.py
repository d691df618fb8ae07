"""The links to eco-credit and GEP: reads through the registry, events through signals.

The real links are tested when those packages are loaded; the refusal policy and the
"not loaded" answers are tested with stubs, whatever is installed.
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from greenfin import installed_features, signals
from greenfin.core.models import AuditEvent
from greenfin.core.services import record_audit
from greenfin.errors import Conflict
from greenfin.extensions import db
from greenfin.lending import links, services
from greenfin.lending.models import Repayment

LOADED = {m.__name__ for m in installed_features()}
needs_credit = pytest.mark.skipif("credit" not in LOADED, reason="credit package not loaded")
needs_gep = pytest.mark.skipif("greenfin.gep" not in LOADED, reason="GEP package not loaded")


def _booked(create_application, monkeypatch, **kw):
    monkeypatch.setattr(services, "APPROVE_AT", 0)
    monkeypatch.setattr(services, "REFER_AT", 0)
    app = create_application(**kw)
    services.decide_application(app)
    assert app.status == "approved"
    return services.book_loan(app, date(2026, 1, 10))


@needs_credit
def test_current_colour_reads_credit_ratings(create_party):
    party = create_party()
    assert links.current_colour(party.id) is None  # a new party has no published rating


@needs_credit
def test_default_posts_points_to_the_credit_ledger(create_application, champion, monkeypatch):
    import credit.services as credit
    from credit.models import CreditPosting

    credit.ensure_rule_catalogue()
    loan = _booked(create_application, monkeypatch)
    services.refresh_delinquency(date(2026, 6, 1))
    postings = list(db.session.scalars(select(CreditPosting).where(CreditPosting.source_id == str(loan.id),
                                                                   CreditPosting.rule_code == "LOAN_DEFAULTED")))
    assert len(postings) == 1 and postings[0].party_id == loan.party_id
    services.write_off_loan(loan, "催收无果")  # the default was already announced: not twice
    assert len(list(db.session.scalars(select(CreditPosting).where(CreditPosting.source_id == str(loan.id))))) == 1


@needs_credit
def test_repaid_on_time_posts_points_to_the_credit_ledger(create_application, champion, monkeypatch):
    import credit.services as credit
    from credit.models import CreditPosting

    credit.ensure_rule_catalogue()
    loan = _booked(create_application, monkeypatch, amount=Decimal("12000"), term_months=6)
    for inst in list(loan.instalments):
        services.record_repayment(loan, inst.amount_unpaid, inst.due_date)
    rules = list(db.session.scalars(select(CreditPosting.rule_code).where(CreditPosting.source_id == str(loan.id))))
    assert loan.status == "repaid" and rules == ["LOAN_REPAID_ON_TIME"]


def test_refusing_receiver_leaves_the_repayment_standing(app, create_application, champion, monkeypatch):
    """A receiver that refuses (the ledger says no) undoes only its own writes; the refusal is audited."""

    def refuse(sender, **data):
        record_audit("refuser.wrote", "loan", data["loan_id"])
        db.session.flush()
        raise Conflict("ledger closed for the night")

    loan = _booked(create_application, monkeypatch, amount=Decimal("12000"), term_months=6)
    with signals.loan_repaid.connected_to(refuse, app):
        for inst in list(loan.instalments):
            services.record_repayment(loan, inst.amount_unpaid, inst.due_date)
    db.session.commit()
    db.session.expire_all()
    assert loan.status == "repaid" and loan.outstanding_principal == 0
    assert db.session.scalar(select(db.func.count(Repayment.id)).where(Repayment.loan_id == loan.id)) == 6
    audits = list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "loan",
                                                              AuditEvent.entity_id == str(loan.id))))
    actions = [a.action for a in audits]
    assert "refuser.wrote" not in actions  # the receiver's savepoint was rolled back
    refused = [a for a in audits if a.action == "loan-repaid.refused"]
    assert len(refused) == 1 and refused[0].after["error"] == "ledger closed for the night"
    assert refused[0].after["receiver"].endswith(".refuse")
    assert "lending.loan.repaid" in actions


def test_unloaded_packages_read_as_unrated_and_without_gep(app, create_party, create_parcel):
    party = create_party()
    parcel = create_parcel(holder_id=party.id)
    features = app.extensions["greenfin_features"]
    app.extensions["greenfin_contracts"] = {}
    app.extensions["greenfin_features"] = tuple(f for f in features if f not in ("credit", "greenfin.gep"))
    try:
        assert links.current_colour(party.id) is None
        assert links.parcel_gep(parcel.id) is None
    finally:
        app.extensions["greenfin_features"] = features
        app.extensions["greenfin_contracts"] = {}


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
