"""Demo data of the market: three buyers (a public school canteen with the Jiangxi 30 % quota, a
processor, a retailer), offers from the seeded lots, the canteen's demand, two orders delivered and
received by scanning their labels (EPCIS shipping and receiving events), one placed order, and one
offer refused because the grower's GI authorisation has lapsed (audited as ``market.offer.refuse``)."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from greenfin.core import services as core
from greenfin.core.seed import DEMO_PASSWORD_SUFFIX, DEMO_USERS, make_uscc
from greenfin.dates import today
from greenfin.errors import Conflict
from greenfin.extensions import db
from greenfin.market import services
from greenfin.registry import require

BUYERS = [
    # name, kind (party), USCC prefix, township, village, buyer kind, public
    ("广丰区第一中学", "organisation", "12", "yongfeng", "永丰社区", "canteen", True),
    ("上饶市广丰区绿购生鲜超市有限公司", "firm", "91", "yongfeng", "城东社区", "retailer", False),
]
PROCESSOR = "江西广丰马家柚食品有限公司"


def seed_demo(rng: random.Random, context: dict) -> dict:
    trace = require("traceability")
    parties = context["greenfin.core"]["parties"]
    buyers = {}
    for name, kind, prefix, township, village, buyer_kind, public in BUYERS:
        party = core.create_party({"kind": kind, "name": name, "uscc": make_uscc(rng, prefix),
                                   "township_code": township, "village": village, "sector": "canteen"
                                   if buyer_kind == "canteen" else "retail", "contact_name": "采购办"})
        services.register_buyer({"party_id": party.id, "kind": buyer_kind, "public": public})
        buyers[name] = party
    processor = parties[PROCESSOR]
    services.register_buyer({"party_id": processor.id, "kind": "processor"})
    for username, display, role, party_name in DEMO_USERS:
        if party_name in buyers:
            core.create_user({"username": username, "display_name": display, "role": role,
                              "password": username + DEMO_PASSWORD_SUFFIX, "party_id": buyers[party_name].id})

    lots = {lot.code: lot for lot in context["traceability"]["lots"]}
    season = next(code for code in lots if code.endswith("-A02")).split("-")[0]  # MJY<year>
    day = today()
    window = {"delivery_from": day - timedelta(days=20), "delivery_until": day + timedelta(days=40)}
    a02, h01, g01 = lots[f"{season}-A02"], lots[f"{season}-H01"], lots[f"{season}-G01"]
    offers = [services.make_offer({"lot_id": a02.id, "quantity": Decimal("2000"), "unit_price": Decimal("9.80"),
                                   **window}),
              services.make_offer({"lot_id": h01.id, "quantity": Decimal("1500"), "unit_price": Decimal("9.20"),
                                   **window}),
              services.make_offer({"lot_id": g01.id, "quantity": Decimal("300"), "unit_price": Decimal("10.50"),
                                   **window})]
    # 徐国强's authorisation to use the 马家柚 brand lapsed ten days ago (traceability's seed): refused.
    refused = None
    try:
        services.make_offer({"lot_id": lots[f"{season}-G03"].id, "quantity": Decimal("200"),
                             "unit_price": Decimal("8.80"), **window})
    except Conflict as exc:
        refused = exc.errors
    canteen = buyers["广丰区第一中学"]
    demand = services.post_demand({"product_id": a02.product_id, "quantity": Decimal("800"), "unit": "KGM",
                                   "delivery_from": day, "delivery_until": day + timedelta(days=30),
                                   "required_certifications": ["green_food"], "max_price": Decimal("10.00")},
                                  scope=canteen.id)
    # Two orders delivered and received by scanning the cases' labels, one placed and waiting.
    orders = []
    for offer, buyer, quantity in ((offers[0], canteen, Decimal("500")), (offers[1], processor, Decimal("600"))):
        order = services.place_order({"offer_id": offer.id, "quantity": quantity,
                                      "demand_id": demand.id if buyer is canteen else None}, scope=buyer.id)
        services.confirm_order(order)
        services.ship_order(order)
        lot = a02 if offer is offers[0] else h01
        batch = trace.create_label_batch(lot, 12, "a4-3x8")
        trace.issue_labels(batch, rng=rng)
        services.receive_order(order, [serial for _uri, serial in trace.iter_batch_labels(batch)][:6])
        orders.append(order)
    orders.append(services.place_order({"offer_id": offers[2].id, "quantity": Decimal("120")},
                                       scope=buyers["上饶市广丰区绿购生鲜超市有限公司"].id))
    # The canteen's farm-produce purchases this month, all sources: 4,900 yuan of 15,000 are eco-products.
    services.record_purchase_total({"month": day.strftime("%Y-%m"), "amount": Decimal("15000")}, scope=canteen.id)
    db.session.flush()
    return {"buyers": buyers, "offers": offers, "orders": orders, "demand": demand, "refused": refused}
