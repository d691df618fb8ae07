"""The market API: offers, demand, matches, orders and their transitions; role checks; refusals as
409/422 with reasons; idempotency keys; a producer or buyer sees only its own records."""
from datetime import timedelta

from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.extensions import db
from greenfin.market.models import Order
from traceability import services as trace
from traceability.models import BrandAuthorisation

TODAY = business_today()
WINDOW = {"delivery_from": TODAY.isoformat(), "delivery_until": (TODAY + timedelta(days=20)).isoformat()}


def grant_green_food(lot):
    trace.grant_certification({"kind": "green_food", "number": f"LB-API-{lot.id}", "issuer": "中国绿色食品发展中心",
                               "scope": "product", "party_id": lot.producer_id, "product_id": lot.product_id,
                               "valid_from": TODAY - timedelta(days=10), "valid_until": TODAY + timedelta(days=300)})
    db.session.commit()


def seller_and_buyer(api, create_lot, create_buyer, create_user):
    lot = create_lot()
    grant_green_food(lot)
    producer = api(user=create_user("producer", party=lot.producer))
    buyer_party = create_buyer()
    buyer = api(user=create_user("buyer", party=buyer_party))
    return lot, producer, buyer, buyer_party


def test_offer_order_ship_receive_through_the_api(api, create_lot, create_buyer, create_user, issue_labels):
    lot, producer, buyer, buyer_party = seller_and_buyer(api, create_lot, create_buyer, create_user)
    serials = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=3))]
    r = producer.post("/api/v1/market/offers", json={"lot_id": lot.id, "quantity": "500", "unit_price": "9.80", **WINDOW})
    assert r.status_code == 201, r.json
    offer = r.json
    assert offer["available"] == "500.000" and offer["certification_kinds"] == ["green_food"]
    r = buyer.post("/api/v1/market/demand", json={"product_id": lot.product_id, "quantity": "200",
                                                  "required_certifications": ["green_food"], **WINDOW})
    assert r.status_code == 201, r.json
    matches = buyer.get(f"/api/v1/market/demand/{r.json['id']}/matches").json
    assert [m["offer_id"] for m in matches] == [offer["id"]] and set(matches[0]["scores"]) >= {"total", "distance"}
    key = {"Idempotency-Key": "order-1"}
    r = buyer.post("/api/v1/market/orders", json={"offer_id": offer["id"], "quantity": "200"}, headers=key)
    assert r.status_code == 201 and r.json["amount"] == "1960.00"
    again = buyer.post("/api/v1/market/orders", json={"offer_id": offer["id"], "quantity": "200"}, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count(Order.id)).where(Order.lot_id == lot.id)) == 1
    order_id = r.json["id"]
    assert buyer.post(f"/api/v1/market/orders/{order_id}/confirm").status_code == 403
    assert producer.post(f"/api/v1/market/orders/{order_id}/confirm").json["status"] == "confirmed"
    shipped = producer.post(f"/api/v1/market/orders/{order_id}/ship").json
    assert shipped["status"] == "shipped" and shipped["shipping_event"]
    received = buyer.post(f"/api/v1/market/orders/{order_id}/receive", json={"serials": serials[:2]})
    assert received.status_code == 200 and received.json["status"] == "received"
    position = producer.get(f"/api/v1/market/lots/{lot.id}/position").json
    assert position == {"quantity": "1200.000", "on_offer": "300.000", "reserved": "0", "delivered": "200.000",
                        "left": "700.000"}


def test_refused_offer_answers_409_with_the_reason(api, create_lot, create_user):
    lot = create_lot()
    auth = db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.party_id == lot.producer_id))
    trace.revoke_brand_authorisation(auth, "违规")
    db.session.commit()
    producer = api(user=create_user("producer", party=lot.producer))
    r = producer.post("/api/v1/market/offers", json={"lot_id": lot.id, "quantity": "5", "unit_price": "1", **WINDOW})
    assert r.status_code == 409 and r.json["code"] == "offer_refused"
    assert "revoked" in r.json["errors"]["lot_id"][0]


def test_bad_input_is_422_per_field(api, create_lot, create_user, create_buyer):
    lot, producer, buyer, _ = seller_and_buyer(api, create_lot, create_buyer, create_user)
    r = producer.post("/api/v1/market/offers", json={"lot_id": lot.id, "quantity": "99999", "unit_price": "1", **WINDOW})
    assert r.status_code == 422 and "quantity" in r.json["errors"]
    r = producer.post("/api/v1/market/offers", json={"lot_id": lot.id, "quantity": "x", "unit_price": "-1",
                                                     "delivery_from": "2026-02-30", "certification_kinds": ["x"]})
    assert r.status_code == 422
    assert {"quantity", "delivery_from", "delivery_until", "certification_kinds.0"} <= set(r.json["errors"])
    r = buyer.post("/api/v1/market/orders/999999/receive", json={"serials": []})
    assert r.status_code == 422 and "serials" in r.json["errors"]


def test_receipt_with_another_lots_label_is_422(api, create_lot, create_buyer, create_user, issue_labels):
    lot, producer, buyer, _ = seller_and_buyer(api, create_lot, create_buyer, create_user)
    other = create_lot()
    foreign = [s for _u, s in trace.iter_batch_labels(issue_labels(other, count=1))]
    offer = producer.post("/api/v1/market/offers", json={"lot_id": lot.id, "quantity": "10", "unit_price": "5",
                                                         **WINDOW}).json
    order = buyer.post("/api/v1/market/orders", json={"offer_id": offer["id"], "quantity": "10"}).json
    producer.post(f"/api/v1/market/orders/{order['id']}/confirm")
    producer.post(f"/api/v1/market/orders/{order['id']}/ship")
    r = buyer.post(f"/api/v1/market/orders/{order['id']}/receive", json={"serials": foreign})
    assert r.status_code == 422 and r.json["code"] == "receipt_refused"
    assert r.json["errors"]["serials"] == [f"{foreign[0]}: a label of another lot"]


def test_records_of_others_answer_404_and_roles_are_checked(api, create_lot, create_buyer, create_user, create_party):
    lot, producer, buyer, _ = seller_and_buyer(api, create_lot, create_buyer, create_user)
    offer = producer.post("/api/v1/market/offers", json={"lot_id": lot.id, "quantity": "10", "unit_price": "5",
                                                         **WINDOW}).json
    order = buyer.post("/api/v1/market/orders", json={"offer_id": offer["id"], "quantity": "1"}).json
    other_buyer = api(user=create_user("buyer", party=create_buyer(name="另一食堂")))
    other_producer = api("producer")
    assert other_buyer.get(f"/api/v1/market/orders/{order['id']}").status_code == 404
    assert other_producer.get(f"/api/v1/market/orders/{order['id']}").status_code == 404
    assert other_producer.post(f"/api/v1/market/offers/{offer['id']}/withdraw", json={"reason": "x"}).status_code == 404
    assert other_buyer.get("/api/v1/market/orders").json == []
    assert buyer.post("/api/v1/market/offers", json={}).status_code == 403
    assert producer.post("/api/v1/market/orders", json={}).status_code == 403
    assert api("regulator").post("/api/v1/market/orders", json={}).status_code == 403
    assert api("regulator").get(f"/api/v1/market/orders/{order['id']}").status_code == 200
    assert api("insurer").get("/api/v1/market/orders").status_code == 403
    r = api("admin").post("/api/v1/market/orders", json={"offer_id": offer["id"], "quantity": "1"})
    assert r.status_code == 422 and "buyer_id" in r.json["errors"]


def test_admin_registers_buyers(api, create_party):
    party = create_party(kind="organisation")
    r = api("admin").post("/api/v1/market/buyers", json={"party_id": party.id, "kind": "canteen", "public": True})
    assert r.status_code == 201 and r.json["quota_share"] == "30.00"
    assert api("regulator").get("/api/v1/market/buyers").status_code == 200
    assert api("regulator").post("/api/v1/market/buyers", json={}).status_code == 403
