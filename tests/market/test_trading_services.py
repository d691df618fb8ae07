"""Trading services: buyers, offers refused for a lapsed or revoked GI authorisation, an expired
certificate or a recalled lot; never more on offer than the lot has left; a recall withdraws offers;
demand and ranked matches; orders placed, confirmed, shipped and received (EPCIS events with the
order as business transaction), a receipt with a label of another lot refused; cancel releases."""
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from greenfin.dates import today as business_today
from greenfin.core.models import AuditEvent
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.market import policy, services
from traceability import epcis
from traceability import services as trace
from traceability.models import BrandAuthorisation

TODAY = business_today()


def offer_data(lot, **overrides):
    data = {"lot_id": lot.id, "quantity": Decimal("300"), "unit_price": Decimal("8.50"), "delivery_from": TODAY,
            "delivery_until": TODAY + timedelta(days=30)}
    data.update(overrides)
    return data


def actions(entity_type, entity_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.id))]


def test_register_buyer_public_canteen_gets_the_jiangxi_quota(create_party):
    party = create_party(kind="organisation")
    buyer = services.register_buyer({"party_id": party.id, "kind": "canteen", "public": True})
    assert buyer.quota_share == Decimal("30") and actions("market_buyer", buyer.id) == ["market.buyer.register"]
    retailer = services.register_buyer({"party_id": create_party().id, "kind": "retailer"})
    assert retailer.quota_share is None and not retailer.public
    with pytest.raises(ValidationFailed) as exc:
        services.register_buyer({"party_id": party.id, "kind": "school", "quota_share": "130"})
    assert set(exc.value.errors) == {"party_id", "kind", "quota_share"}
    with pytest.raises(ValidationFailed) as exc:
        services.register_buyer({"party_id": create_party(kind="individual").id, "kind": "retailer"})
    assert "party_id" in exc.value.errors


def test_make_offer_claims_the_lots_certificates_and_audits(offer_lot):
    lot, offer = offer_lot(quantity="400")
    assert offer.status == "open" and offer.available == Decimal("400") and offer.unit == "KGM"
    assert offer.certification_kinds == ["green_food"] and offer.producer_id == lot.producer_id
    assert actions("market_offer", offer.id) == ["market.offer.make"]


def test_make_offer_never_more_than_the_lot_has_left(offer_lot, create_buyer):
    lot, first = offer_lot(quantity="1000")
    with pytest.raises(ValidationFailed) as exc:
        services.make_offer(offer_data(lot, quantity=Decimal("300")))
    assert "quantity" in exc.value.errors and "(200 kg)" in exc.value.errors["quantity"][0]
    services.withdraw_offer(first, "价格调整")
    assert services.make_offer(offer_data(lot, quantity=Decimal("1200"))).available == Decimal("1200")


def test_make_offer_refused_while_the_gi_authorisation_lapsed(offer_lot, create_lot):
    lot = create_lot()
    auth = db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.party_id == lot.producer_id))
    auth.valid_until = TODAY - timedelta(days=1)
    db.session.flush()
    with pytest.raises(Conflict) as exc:
        services.make_offer(offer_data(lot, certification_kinds=[]))
    assert exc.value.code == "offer_refused" and "has lapsed" in exc.value.errors["lot_id"][0]
    assert actions("trace_lot", lot.id)[-1] == "market.offer.refuse"


def test_make_offer_refused_while_the_gi_authorisation_is_revoked(create_lot):
    lot = create_lot()
    auth = db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.party_id == lot.producer_id))
    trace.revoke_brand_authorisation(auth, "违规使用")
    with pytest.raises(Conflict) as exc:
        services.make_offer(offer_data(lot, certification_kinds=[]))
    assert "is revoked" in exc.value.errors["lot_id"][0]


def test_make_offer_refused_with_an_expired_certificate(create_lot):
    lot = create_lot()
    trace.grant_certification({"kind": "organic", "number": f"OR-{lot.id}", "issuer": "南京国环", "scope": "product",
                               "party_id": lot.producer_id, "product_id": lot.product_id,
                               "valid_from": TODAY - timedelta(days=400), "valid_until": TODAY - timedelta(days=1)})
    with pytest.raises(Conflict) as exc:
        services.make_offer(offer_data(lot))  # claims organic by default: the lot has one, expired
    assert exc.value.errors["certification_kinds"] == ["the organic certificate has expired"]
    assert services.make_offer(offer_data(lot, certification_kinds=[])).certification_kinds == []


def test_make_offer_refused_for_a_recalled_lot(create_lot):
    lot = create_lot()
    trace.recall_lot(lot, "农残超标")
    with pytest.raises(Conflict) as exc:
        services.make_offer(offer_data(lot, certification_kinds=[]))
    assert exc.value.errors["lot_id"] == ["the lot is recalled"]


def test_make_offer_of_another_producers_lot_is_not_found(create_lot, create_party):
    lot = create_lot()
    with pytest.raises(NotFound):
        services.make_offer(offer_data(lot), scope=create_party().id)


def test_recall_withdraws_open_offers_and_cancels_unshipped_orders(offer_lot, create_buyer):
    lot, offer = offer_lot(quantity="500")
    buyer = create_buyer()
    order = services.place_order({"offer_id": offer.id, "quantity": Decimal("100")}, scope=buyer.id)
    trace.recall_lot(lot, "农残超标")
    assert offer.status == "withdrawn" and offer.available == 0 and "农残超标" in offer.withdraw_reason
    assert order.status == "cancelled"
    assert "market.offer.withdraw" in actions("market_offer", offer.id)
    assert services.lot_position(lot.id)["reserved"] == 0


def test_match_ranks_compatible_offers_by_the_documented_criteria(offer_lot, create_lot, create_buyer, create_party,
                                                                  create_parcel, create_product):
    buyer = create_buyer(township_code="danan")
    near_cheap, offer_a = offer_lot(price="8.00")
    product = near_cheap.product
    far_producer = create_party(township_code="paishan")
    # the same product from another orchard, farther and dearer
    trace.authorise_brand(product.brand_id, far_producer.id, TODAY - timedelta(days=30))
    far_parcel = create_parcel(holder_id=far_producer.id, lat=Decimal("28.20"), lon=Decimal("118.50"))
    far_lot = create_lot(product=product, producer=far_producer, parcels=[far_parcel])
    _lot, offer_b = offer_lot(lot=far_lot, price="9.50")
    other_product_lot, offer_c = offer_lot()  # another product: not compatible
    demand = services.post_demand({"product_id": product.id, "quantity": Decimal("200"), "unit": "KGM",
                                   "delivery_from": TODAY, "delivery_until": TODAY + timedelta(days=10),
                                   "required_certifications": ["green_food"]}, scope=buyer.id)
    matches = services.match(demand)
    assert [m["offer_id"] for m in matches] == [offer_a.id, offer_b.id]
    first, second = matches
    assert first["scores"]["price"] == 1 and second["scores"]["price"] == 0
    assert first["distance_km"] < second["distance_km"]
    assert first["scores"]["total"] > second["scores"]["total"]
    assert sum(policy.WEIGHTS.values()) == 1
    # a required certificate the lots lack: nothing matches; a price ceiling below both: nothing
    organic = services.post_demand({"product_id": product.id, "quantity": Decimal("1"), "unit": "KGM",
                                    "delivery_from": TODAY, "delivery_until": TODAY,
                                    "required_certifications": ["organic"]}, scope=buyer.id)
    assert services.match(organic) == []
    cheap = services.post_demand({"product_id": product.id, "quantity": Decimal("1"), "unit": "KGM",
                                  "delivery_from": TODAY, "delivery_until": TODAY, "max_price": "8.99"},
                                 scope=buyer.id)
    assert [m["offer_id"] for m in services.match(cheap)] == [offer_a.id]


def test_post_demand_refuses_bad_input_by_field(create_buyer, create_party):
    buyer = create_buyer()
    with pytest.raises(ValidationFailed) as exc:
        services.post_demand({"product_id": 999999, "quantity": "-1", "unit": "LBS", "delivery_from": TODAY,
                              "delivery_until": TODAY - timedelta(days=1), "required_certifications": ["halal"],
                              "max_price": "abc"}, scope=buyer.id)
    assert set(exc.value.errors) == {"product_id", "quantity", "unit", "delivery_until", "required_certifications",
                                     "max_price"}
    with pytest.raises(ValidationFailed) as exc:
        services.post_demand({"product_id": 1, "quantity": 1, "delivery_from": TODAY, "delivery_until": TODAY},
                             scope=create_party().id)
    assert "buyer_id" in exc.value.errors


def test_order_lifecycle_ship_and_receive_record_epcis_events(offer_lot, create_buyer, issue_labels):
    lot, offer = offer_lot(quantity="600", price="8.50")
    batch = issue_labels(lot, count=4)
    labels = list(trace.iter_batch_labels(batch))
    serials = [s for _uri, s in labels]
    buyer = create_buyer()
    order = services.place_order({"offer_id": offer.id, "quantity": Decimal("120.5")}, scope=buyer.id)
    assert order.status == "placed" and order.amount == Decimal("1024.25") and offer.available == Decimal("479.5")
    services.confirm_order(order)
    services.ship_order(order)
    assert order.status == "shipped" and order.shipping_event.startswith("ni:///sha-256;")
    services.receive_order(order, [serials[0], labels[1][0]])  # a serial, and a label's whole URI
    assert order.status == "received" and order.received_serials == sorted(serials[:2])
    assert actions("market_order", order.id) == ["market.order.place", "market.order.confirm", "market.order.ship",
                                                  "market.order.receive"]
    position = services.lot_position(lot.id)
    assert position == {"quantity": Decimal("1200"), "on_offer": Decimal("479.5"), "reserved": 0,
                        "delivered": Decimal("120.5"), "left": Decimal("600")}
    buf = io.StringIO()
    trace.export_epcis(buf, lot_id=lot.id)
    document = json.loads(buf.getvalue())
    assert epcis.document_errors(document) == {}
    events = {e["gf:kind"]: e for e in document["epcisBody"]["eventList"]}
    po = {"type": "po", "bizTransaction": f"urn:greenfin:doc:market-order-{order.id}"}
    for kind in ("shipping", "receiving"):
        assert po in events[kind]["bizTransactionList"]
        assert events[kind]["destinationList"] == [{"type": "owning_party", "destination": f"urn:greenfin:party:{buyer.id}"}]
    assert len(events["receiving"]["epcList"]) == 2


def test_receipt_with_a_label_of_another_lot_or_unknown_serial_is_refused(offer_lot, create_buyer, issue_labels):
    lot, offer = offer_lot()
    other, _other_offer = offer_lot()
    own = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=2))]
    foreign = [s for _u, s in trace.iter_batch_labels(issue_labels(other, count=1))]
    order = services.place_order({"offer_id": offer.id, "quantity": 10}, scope=create_buyer().id)
    services.confirm_order(order)
    services.ship_order(order)
    with pytest.raises(ValidationFailed) as exc:
        services.receive_order(order, [own[0], foreign[0], "NOSUCHSERIAL"])
    assert exc.value.code == "receipt_refused"
    assert exc.value.errors["serials"] == [f"{foreign[0]}: a label of another lot",
                                           "NOSUCHSERIAL: no label has this serial"]
    assert order.status == "shipped" and order.receiving_event is None
    with pytest.raises(ValidationFailed):
        services.receive_order(order, [])


def test_place_order_never_more_than_the_offer_has(offer_lot, create_buyer):
    _lot, offer = offer_lot(quantity="100")
    buyer = create_buyer()
    services.place_order({"offer_id": offer.id, "quantity": 60}, scope=buyer.id)
    with pytest.raises(Conflict) as exc:
        services.place_order({"offer_id": offer.id, "quantity": 41}, scope=buyer.id)
    assert exc.value.code == "insufficient_quantity" and offer.available == 40


def test_place_order_checks_the_lot_on_the_day(offer_lot, create_buyer):
    lot, offer = offer_lot()
    auth = db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.party_id == lot.producer_id))
    auth.valid_until = TODAY - timedelta(days=1)
    db.session.flush()
    with pytest.raises(Conflict) as exc:
        services.place_order({"offer_id": offer.id, "quantity": 1}, scope=create_buyer().id)
    assert exc.value.code == "offer_refused"


def test_only_registered_buyers_order(offer_lot, create_party):
    _lot, offer = offer_lot()
    with pytest.raises(ValidationFailed) as exc:
        services.place_order({"offer_id": offer.id, "quantity": 1}, scope=create_party().id)
    assert "buyer_id" in exc.value.errors


def test_cancel_releases_the_quantity_and_not_after_shipping(offer_lot, create_buyer):
    _lot, offer = offer_lot(quantity="100")
    buyer = create_buyer()
    order = services.place_order({"offer_id": offer.id, "quantity": 70}, scope=buyer.id)
    services.cancel_order(order, "计划变更")
    assert order.status == "cancelled" and offer.available == 100
    second = services.place_order({"offer_id": offer.id, "quantity": 10}, scope=buyer.id)
    services.confirm_order(second)
    services.ship_order(second)
    with pytest.raises(Conflict) as exc:
        services.cancel_order(second, "太晚了")
    assert exc.value.code == "order_state"
    with pytest.raises(Conflict):
        services.confirm_order(order)


def test_shipping_and_receiving_events_validate_against_gs1s_epcis_schema(offer_lot, create_buyer, issue_labels,
                                                                           runner, tmp_path):
    from jsonschema import Draft7Validator

    from tests.conftest import SHARED

    official = SHARED / "epcis" / "EPCIS-JSON-Schema.json"
    if not official.exists():
        pytest.skip(f"GS1's EPCIS 2.0 schema is not at {official}")
    lot, offer = offer_lot()
    serials = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=2))]
    order = services.place_order({"offer_id": offer.id, "quantity": Decimal("50")}, scope=create_buyer().id)
    services.confirm_order(order)
    services.ship_order(order)
    services.receive_order(order, serials)
    db.session.commit()
    out = tmp_path / "export.jsonld"
    result = runner.invoke(args=["trace", "export-epcis", "--out", str(out), "--lot", lot.code, "--gtin", lot.product.gtin])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    validator = Draft7Validator(json.loads(official.read_text()), format_checker=epcis.format_checker())
    assert [e.message for e in validator.iter_errors(document)] == []
    hashes = {e["eventID"] for e in document["epcisBody"]["eventList"]}
    assert {order.shipping_event, order.receiving_event} <= hashes


def test_market_report_sums_received_orders_per_buyer_and_month(offer_lot, create_buyer, issue_labels, runner):
    lot, offer = offer_lot(quantity="500", price="10.00")
    serials = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=2))]
    buyer = create_buyer()
    orders = []
    for quantity in ("100", "50.5"):
        order = services.place_order({"offer_id": offer.id, "quantity": Decimal(quantity)}, scope=buyer.id)
        services.confirm_order(order)
        services.ship_order(order)
        services.receive_order(order, serials)
        orders.append(order)
    services.place_order({"offer_id": offer.id, "quantity": Decimal("1")}, scope=buyer.id)
    report = services.market_report()
    mine = [r for r in report["received"] if r["buyer_id"] == buyer.id]
    assert len(mine) == 1 and mine[0]["orders"] == 2
    assert mine[0]["quantity"] == Decimal("150.5") and mine[0]["amount"] == sum(o.amount for o in orders)
    assert mine[0]["public"] and mine[0]["quota_share"] == Decimal("30")
    assert report["orders"]["received"] >= 2 and report["orders"]["placed"] >= 1
    db.session.commit()
    result = runner.invoke(args=["market", "report"])
    assert result.exit_code == 0, result.output
    assert f",{buyer.id},广丰区第一中学食堂,canteen,yes,30,2,150.5,KGM,1505.00" in result.output
    assert runner.invoke(args=["market", "report", "--month", "2026-13"]).exit_code == 2


def test_import_demand_posts_every_row_or_none(create_buyer, create_lot, runner, tmp_path):
    buyer = create_buyer()
    lot = create_lot()
    window = f"{TODAY.isoformat()},{(TODAY + timedelta(days=30)).isoformat()}"
    good = ("buyer_uscc,gtin,quantity,unit,delivery_from,delivery_until,required_certifications,max_price\n"
            f"{buyer.uscc},{lot.product.gtin},800,KGM,{window},green_food;gi,10.00\n"
            f"{buyer.uscc},{lot.product.gtin},120.5,KGM,{window},,\n")
    path = tmp_path / "demand.csv"
    path.write_text(good, encoding="utf-8")
    result = runner.invoke(args=["market", "import-demand", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 demand rows posted" in result.output
    posted = db.session.scalars(services.demand_query(buyer_id=buyer.id)).all()
    assert sorted(d.quantity for d in posted) == [Decimal("120.5"), Decimal("800")]
    assert {tuple(d.required_certifications) for d in posted} == {("green_food", "gi"), ()}
    bad = good + f"91000000000000000X,{lot.product.gtin},-5,KGM,{window},halal,\n"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        with path.open(encoding="utf-8") as fh:
            services.import_demand(fh)
    assert list(exc.value.errors) == ["row 4"]
    assert len(db.session.scalars(services.demand_query(buyer_id=buyer.id)).all()) == 2  # none of the file's rows
    result = runner.invoke(args=["market", "import-demand", str(path)])
    assert result.exit_code == 2 and "row 4" in result.output
