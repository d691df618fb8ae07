"""Market pages: a producer offers a lot (a refused offer redisplays the form with the reason), a
buyer posts demand, orders from its matches, receives by scanning labels (a label of another lot is
refused with the form redisplayed); the producer confirms and ships."""
from datetime import timedelta

from sqlalchemy import select

from greenfin.dates import today as business_today
from greenfin.extensions import db
from greenfin.market import services
from greenfin.market.models import Order
from traceability import services as trace
from traceability.models import BrandAuthorisation

TODAY = business_today()


def _grant(lot):
    trace.grant_certification({"kind": "green_food", "number": f"LB-V-{lot.id}", "issuer": "中国绿色食品发展中心",
                               "scope": "product", "party_id": lot.producer_id, "product_id": lot.product_id,
                               "valid_from": TODAY - timedelta(days=10), "valid_until": TODAY + timedelta(days=300)})
    db.session.commit()


def _signed_in(app, user):
    client = app.test_client()
    r = client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
    assert r.status_code == 302
    return client


def test_offer_demand_order_ship_receive_through_the_pages(app, create_lot, create_user, create_buyer, issue_labels):
    lot = create_lot()
    _grant(lot)
    serials = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=2))]
    other = create_lot()
    foreign = [s for _u, s in trace.iter_batch_labels(issue_labels(other, count=1))]
    producer = _signed_in(app, create_user("producer", party=lot.producer))
    buyer_party = create_buyer()
    buyer = _signed_in(app, create_user("buyer", party=buyer_party))

    page = producer.get("/market/offers")
    assert page.status_code == 200 and lot.code in page.get_data(as_text=True)
    r = producer.post("/market/offers", data={"lot_id": lot.id, "quantity": "400", "unit_price": "9.60",
                                             "delivery_from": TODAY.isoformat(),
                                             "delivery_until": (TODAY + timedelta(days=9)).isoformat()})
    assert r.status_code == 302
    offer = db.session.scalars(services.offer_query(lot_id=lot.id)).one()
    assert offer.available == 400

    r = buyer.post("/market/demand", data={"product_id": lot.product_id, "quantity": "100", "unit": "KGM",
                                          "delivery_from": TODAY.isoformat(),
                                          "delivery_until": (TODAY + timedelta(days=5)).isoformat(),
                                          "required_certifications": ["green_food"]})
    assert r.status_code == 302 and "/market/demand/" in r.location
    matches = buyer.get(r.location).get_data(as_text=True)
    assert lot.code in matches and 'name="offer_id"' in matches
    demand_id = int(r.location.rsplit("/", 1)[1])
    r = buyer.post("/market/orders", data={"offer_id": offer.id, "demand_id": demand_id, "quantity": "100"})
    assert r.status_code == 302
    order = db.session.scalar(select(Order).where(Order.offer_id == offer.id))
    assert order.status == "placed" and order.demand_id == demand_id

    assert producer.post(f"/market/orders/{order.id}/confirm").status_code == 302
    assert producer.post(f"/market/orders/{order.id}/ship").status_code == 302
    db.session.expire_all()
    assert order.status == "shipped"
    refused = buyer.post(f"/market/orders/{order.id}/receive", data={"serials": f"{serials[0]}\n{foreign[0]}"})
    assert refused.status_code == 422 and f"{foreign[0]}：其他批次的标签" in refused.get_data(as_text=True)
    r = buyer.post(f"/market/orders/{order.id}/receive", data={"serials": "\n".join(serials)})
    assert r.status_code == 302
    db.session.expire_all()
    assert order.status == "received" and order.received_serials == sorted(serials)
    listing = buyer.get("/market/orders").get_data(as_text=True)
    assert lot.code in listing


def test_a_refused_offer_redisplays_the_form_with_the_reason(app, create_lot, create_user):
    lot = create_lot()
    auth = db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.party_id == lot.producer_id))
    trace.revoke_brand_authorisation(auth, "违规")
    db.session.commit()
    producer = _signed_in(app, create_user("producer", party=lot.producer))
    r = producer.post("/market/offers", data={"lot_id": lot.id, "quantity": "5", "unit_price": "1",
                                             "delivery_from": TODAY.isoformat(), "delivery_until": TODAY.isoformat()})
    assert r.status_code == 200
    assert db.session.scalars(services.offer_query(lot_id=lot.id)).all() == []


def test_pages_by_role(app, create_user, create_buyer):
    regulator = _signed_in(app, create_user("regulator"))
    for url in ("/market/offers", "/market/demand", "/market/orders", "/market/buyers"):
        assert regulator.get(url).status_code == 200, url
    buyer = _signed_in(app, create_user("buyer", party=create_buyer()))
    assert buyer.get("/market/offers").status_code == 403
    assert buyer.get("/market/buyers").status_code == 403
    assert regulator.post("/market/orders", data={}).status_code == 403
