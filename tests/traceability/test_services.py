"""Brands, products, lots, certificates (with eco-credit points), tracing and KDE export."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.core.models import AuditEvent, Party
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from traceability import services
from traceability.services import links
from tests.traceability.conftest import make_gtin


def test_create_product_checks_the_gtin(create_party, create_brand):
    owner = create_party()
    with pytest.raises(ValidationFailed) as info:
        services.create_product({"gtin": "06901234567890", "name": "x", "owner_id": owner.id})
    assert "gtin" in info.value.errors
    product = services.create_product({"gtin": "6901234567892", "name": "x", "owner_id": owner.id})
    assert product.gtin == "06901234567892"


def test_brand_needs_an_authorisation(create_party, create_brand):
    owner, brand = create_party(), create_brand()
    with pytest.raises(ValidationFailed) as info:
        services.create_product({"gtin": make_gtin(), "name": "x", "owner_id": owner.id, "brand_id": brand.id})
    assert "brand_id" in info.value.errors
    services.authorise_brand(brand.id, owner.id, business_today() - timedelta(days=1))
    assert services.create_product({"gtin": make_gtin(), "name": "x", "owner_id": owner.id, "brand_id": brand.id})
    with pytest.raises(Conflict):
        services.authorise_brand(brand.id, owner.id, business_today())


def test_a_lapsed_authorisation_is_renewed_by_a_later_period_and_a_revoked_one_stays_on_record(
        create_party, create_brand):
    owner, brand = create_party(), create_brand()
    today = business_today()
    first = services.authorise_brand(brand.id, owner.id, today - timedelta(days=400), today - timedelta(days=35))
    assert not services.brand_authorised(brand.id, owner.id)
    assert services.brand_authorised(brand.id, owner.id, today - timedelta(days=40))
    for start, end in [(today - timedelta(days=35), None), (today - timedelta(days=500), today - timedelta(days=300)),
                       (today - timedelta(days=500), None)]:  # each overlaps the first period
        with pytest.raises(Conflict) as info:
            services.authorise_brand(brand.id, owner.id, start, end)
        assert first.valid_from.isoformat() in info.value.message
    renewal = services.authorise_brand(brand.id, owner.id, today - timedelta(days=34), today + timedelta(days=330))
    assert services.brand_authorised(brand.id, owner.id)
    assert services.brand_authorisations(brand.id) == [first, renewal]
    with pytest.raises(ValidationFailed) as info:
        services.revoke_brand_authorisation(renewal, "  ")
    assert "reason" in info.value.errors and renewal.revoked_at is None
    services.revoke_brand_authorisation(renewal, "标签假冒，撤销授权")
    assert not services.brand_authorised(brand.id, owner.id)
    assert services.brand_authorised(brand.id, owner.id, today - timedelta(days=40))  # the first period stands
    with pytest.raises(Conflict):
        services.revoke_brand_authorisation(renewal, "again")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "trace_brand_authorisation",
                                                         AuditEvent.entity_id == str(renewal.id))).all()
    assert [e.action for e in events] == ["trace.brand.authorise", "trace.brand.revoke"]
    # A revoked period no longer blocks a new authorisation for it.
    assert services.authorise_brand(brand.id, owner.id, today, today + timedelta(days=30))


def test_create_lot_validates_code_parcels_and_quantity(create_product, create_parcel, create_party):
    product = create_product()
    foreign = create_parcel(holder_id=create_party().id)
    with pytest.raises(ValidationFailed) as info:
        services.create_lot({"code": "bad lot!", "product_id": product.id, "producer_id": product.owner_id,
                             "quantity": "-1", "unit": "LBS", "parcel_ids": [foreign.id],
                             "harvest_date": business_today() + timedelta(days=3)})
    assert {"code", "quantity", "unit", "parcel_ids", "harvest_date"} <= set(info.value.errors)


def test_duplicate_lot_code_is_refused(create_lot):
    lot = create_lot()
    with pytest.raises(ValidationFailed):
        services.create_lot({"code": lot.code, "product_id": lot.product_id, "producer_id": lot.producer_id,
                             "quantity": 1})


def test_certificate_status_and_marks(create_lot):
    lot = create_lot()
    today = services.today()
    valid = services.grant_certification({"kind": "green_food", "number": "LB-1", "issuer": "中国绿色食品发展中心",
                                          "scope": "product", "party_id": lot.producer_id,
                                          "product_id": lot.product_id, "valid_from": today - timedelta(days=10),
                                          "valid_until": today + timedelta(days=10)})
    expired = services.grant_certification({"kind": "organic", "number": "OP-1", "issuer": "认证中心",
                                            "scope": "parcel", "party_id": lot.producer_id,
                                            "parcel_id": lot.parcels[0].id, "valid_from": today - timedelta(days=400),
                                            "valid_until": today - timedelta(days=1)})
    assert valid.status_on(today) == "valid" and expired.status_on(today) == "expired"
    assert services.cert_marks(lot) == "绿色食品"
    services.revoke_certification(valid, "抽检不合格")
    assert valid.status_on(today) == "revoked" and services.cert_marks(lot) == ""
    statuses = {c["kind"]: c["status"] for c in services.build_lot_view(lot)["certifications"]}
    assert statuses == {"green_food": "revoked", "organic": "expired"}


def test_certificate_scope_needs_its_target(create_party):
    party = create_party()
    with pytest.raises(ValidationFailed) as info:
        services.grant_certification({"kind": "gi", "number": "G-1", "issuer": "x", "scope": "parcel",
                                      "party_id": party.id, "valid_from": date(2026, 1, 1),
                                      "valid_until": date(2025, 1, 1)})
    assert {"parcel_id", "valid_until"} <= set(info.value.errors)


def test_granting_and_lapsing_announce_to_subscribers(app, create_party):
    from greenfin import signals

    calls = []

    def record(name):
        def receiver(sender, *, party_id, certification_id, **facts):
            calls.append((name, party_id, certification_id))
        return receiver

    granted, lapsed = record("granted"), record("lapsed")
    party = create_party()
    today = services.today()
    with signals.certification_granted.connected_to(granted, app), \
            signals.certification_lapsed.connected_to(lapsed, app):
        cert = services.grant_certification({"kind": "green_food", "number": "LB-9", "issuer": "x",
                                             "scope": "producer", "party_id": party.id,
                                             "valid_from": today - timedelta(days=30),
                                             "valid_until": today + timedelta(days=1)})
        assert calls == [("granted", party.id, cert.id)]
        assert services.lapse_expired_certifications(today + timedelta(days=5)) == [cert]
        assert services.lapse_expired_certifications(today + timedelta(days=6)) == []  # only once
        assert calls[-1] == ("lapsed", party.id, cert.id)
        services.revoke_certification(cert, "撤销")
    assert len(calls) == 2  # already lapsed: no second lapse announced


def test_grant_stands_when_a_receiver_refuses(app, create_party):
    from greenfin import signals

    def refuse(sender, **facts):
        db.session.add(Party(kind="firm", name="written then undone", township_code="danan"))
        raise ValidationFailed("ledger closed", {"rule": ["suspended"]})

    party = create_party()
    with signals.certification_granted.connected_to(refuse, app):
        cert = services.grant_certification({"kind": "gi", "number": "G-77", "issuer": "x", "scope": "producer",
                                             "party_id": party.id, "valid_from": date(2020, 1, 1),
                                             "valid_until": date(2040, 1, 1)})
    db.session.flush()
    assert db.session.get(type(cert), cert.id) is not None
    assert db.session.scalar(select(func.count()).select_from(Party).where(Party.name == "written then undone")) == 0
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certification-granted.refused",
                                                          AuditEvent.entity_id == str(cert.id))).all()
    assert len(refused) == 1 and refused[0].after["error"].startswith("ledger closed")


def test_certificates_work_without_credit(create_party, monkeypatch):
    monkeypatch.setattr(links, "contract", lambda name: None)
    party = create_party()
    cert = services.grant_certification({"kind": "gi", "number": "G-2", "issuer": "x", "scope": "producer",
                                         "party_id": party.id, "valid_from": date(2020, 1, 1),
                                         "valid_until": date(2040, 1, 1)})
    services.revoke_certification(cert, "错误登记")
    assert cert.lapsed_at is not None
    assert services.credit_colour(party.id) is None and services.gep_summary(1) is None


def test_credit_ledger_receives_points_for_real(app, create_party):
    from greenfin.registry import loaded

    if not loaded("credit"):
        pytest.skip("the credit package is not loaded")
    from credit.models import CreditPosting

    party = create_party()
    cert = services.grant_certification({"kind": "green_food", "number": "LB-REAL", "issuer": "x",
                                         "scope": "producer", "party_id": party.id,
                                         "valid_from": services.today() - timedelta(days=1),
                                         "valid_until": services.today() + timedelta(days=300)})
    services.revoke_certification(cert, "撤销")
    postings = db.session.scalars(select(CreditPosting).where(CreditPosting.party_id == party.id)).all()
    assert sorted(p.rule_code for p in postings) == ["TRACE_CERT_GRANTED", "TRACE_CERT_LAPSED"]
    assert all(p.source_id == str(cert.id) for p in postings)


def test_trace_forward_backward_and_kde_rows(create_lot, create_product, create_party):
    pomelo = create_lot()
    buyer = create_party(name="杭州果品公司")
    services.record_event(pomelo, "harvest", {})
    services.record_event(pomelo, "shipping", {"ship_to_id": buyer.id, "reference": "WB-1", "quantity": Decimal("50")})
    peel_product = create_product(owner=pomelo.producer, brand=pomelo.product.brand, name="柚皮糖")
    peel = services.create_lot({"code": "PEEL-1", "product_id": peel_product.id, "producer_id": pomelo.producer_id,
                                "quantity": Decimal("200"), "unit": "H87"})
    services.transform_lot([(pomelo, Decimal("100"))], peel, {})
    forward = services.trace_lot(pomelo)
    assert [lt.id for lt in forward["forward"]] == [peel.id]
    backward = services.trace_lot(peel)
    assert [lt.id for lt in backward["backward"]] == [pomelo.id]
    assert [p.id for p in backward["parcels"]] == [p.id for p in pomelo.parcels]
    rows = services.kde_rows(pomelo)
    assert set(rows[0]) == set(services.KDE_COLUMNS)
    ship = next(r for r in rows if r["event"] == "shipping")
    assert ship["ship_to"] == "杭州果品公司" and ship["reference_document"] == "WB-1" and ship["quantity"] == "50"
    assert rows == sorted(rows, key=lambda r: (r["date"], r["traceability_lot_code"], r["event"]))
    assert {r["traceability_lot_code"] for r in rows} == {pomelo.code, "PEEL-1"}


def test_recall_is_audited_and_recorded_as_event(create_lot, create_user):
    lot = create_lot()
    services.recall_lot(lot, "召回", actor_id=create_user("regulator").id)
    assert lot.recalled_at is not None
    assert [e.disposition for e in services.lot_events(lot.id)] == ["recalled"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trace.lot.recall"))
    with pytest.raises(Conflict):
        services.recall_lot(lot, "again")
    with pytest.raises(ValidationFailed):
        services.create_label_batch(lot, 5, "a4-3x8")


def test_issue_labels_is_safe_to_run_twice(create_lot):
    lot = create_lot()
    batch = services.create_label_batch(lot, 25, "a4-3x8")
    assert services.issue_labels(batch, chunk=10) == 25
    assert services.issue_labels(batch) == 0
    serials = [s for _u, s in services.iter_batch_labels(batch)]
    assert len(serials) == len(set(serials)) == 25
