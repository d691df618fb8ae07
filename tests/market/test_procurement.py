"""The procurement dashboard: each public buyer's eco-products received per month equal the sum of its
received orders; the share against its recorded farm-produce purchases and its quota; API, page, CSV."""
from datetime import timedelta
from decimal import Decimal

import pytest

from greenfin.dates import today
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from greenfin.market import services
from traceability import services as trace


def _deliver(offer, buyer_id, quantity, serials):
    order = services.place_order({"offer_id": offer.id, "quantity": Decimal(quantity)}, scope=buyer_id)
    services.confirm_order(order)
    services.ship_order(order)
    services.receive_order(order, serials)
    return order


def test_dashboard_totals_equal_the_sums_of_the_orders(offer_lot, create_buyer, issue_labels, api):
    lot, offer = offer_lot(quantity="1000", price="9.90")
    serials = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=2))]
    canteen = create_buyer()
    retailer = create_buyer(kind="retailer", public=False, name="超市")
    orders = [_deliver(offer, canteen.id, q, serials) for q in ("100", "33.3")]
    _deliver(offer, retailer.id, "50", serials)  # not a public buyer: not on the dashboard
    services.place_order({"offer_id": offer.id, "quantity": Decimal("10")}, scope=canteen.id)  # not received
    month = today().strftime("%Y-%m")
    rows = [r for r in services.procurement() if r["buyer_id"] == canteen.id]
    assert len(rows) == 1 and rows[0]["month"] == month
    assert rows[0]["eco_amount"] == sum(o.amount for o in orders) == Decimal("1319.67")
    assert rows[0]["orders"] == 2 and rows[0]["share"] is None
    assert not [r for r in services.procurement() if r["buyer_id"] == retailer.id]

    services.record_purchase_total({"month": month, "amount": "5000"}, scope=canteen.id)
    row = next(r for r in services.procurement() if r["buyer_id"] == canteen.id)
    assert row["total_amount"] == Decimal("5000") and row["share"] == Decimal("26.4") and row["meets_quota"] is False
    services.record_purchase_total({"month": month, "amount": "4000"}, scope=canteen.id)  # corrected
    row = next(r for r in services.procurement() if r["buyer_id"] == canteen.id)
    assert row["share"] == Decimal("33.0") and row["meets_quota"] is True
    with pytest.raises(ValidationFailed) as exc:
        services.record_purchase_total({"month": "2026-13", "amount": "-1"}, scope=canteen.id)
    assert set(exc.value.errors) == {"month", "amount"}

    db.session.commit()
    regulator = api("regulator")
    body = regulator.get("/api/v1/market/procurement").json
    mine = [r for r in body if r["buyer_id"] == canteen.id]
    assert mine[0]["eco_amount"] == "1319.67" and mine[0]["share"] == "33.0"
    assert regulator.get("/api/v1/market/procurement?month_from=2026-99").status_code == 422
    assert api("buyer").get("/api/v1/market/procurement").status_code == 403


def test_procurement_page_and_csv(app, create_user, offer_lot, create_buyer, issue_labels):
    from tests.market.test_trading_views import _signed_in

    lot, offer = offer_lot(quantity="100", price="10")
    serials = [s for _u, s in trace.iter_batch_labels(issue_labels(lot, count=1))]
    canteen = create_buyer()
    _deliver(offer, canteen.id, "12", serials)
    db.session.commit()
    regulator = _signed_in(app, create_user("regulator"))
    page = regulator.get("/market/procurement")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and canteen.name in html
    # Two charts: the month's 120.00 yuan drawn, and no share yet (no total recorded): said in words.
    assert html.count('<figure class="chart') == 2 and "<svg" in html and "120" in html
    assert "尚无公共采购单位登记农产品采购总额" in html or "No public buyer has recorded" in html
    services.record_purchase_total({"month": today().strftime("%Y-%m"), "amount": "200"}, scope=canteen.id)
    db.session.commit()
    html = regulator.get("/market/procurement").get_data(as_text=True)
    assert html.count("<svg") >= 2 and "尚无公共采购单位登记农产品采购总额" not in html
    csv_text = regulator.get("/market/procurement.csv").get_data(as_text=True)
    assert f",{canteen.id},{canteen.name},30,120.00,1,200.00,60.0,yes" in csv_text
    assert regulator.get("/market/procurement?month_to=bad").status_code == 422
    buyer = _signed_in(app, create_user("buyer", party=canteen))
    assert buyer.get("/market/procurement").status_code == 403
