"""PostgreSQL: 8 buyers order from the same lot's offer at the same moment, with real commits. Each
order takes the offer's row lock (``SELECT ... FOR UPDATE``) in turn: exactly as many orders go
through as the offer holds, the others are refused (409 ``insufficient_quantity``), and what is
reserved never exceeds the lot. Also the reverse: two producers' offers of one lot at once never
put more on offer than the lot holds (the lot's row lock). A database of its own (real commits)."""
import secrets
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.dates import today as business_today
from greenfin.core import services as core
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from greenfin.market import services
from greenfin.market.models import Order
from greenfin.uow import commit, rollback
from tests.conftest import PG_DB, make_uscc, migrated_app, reset_postgres, using_postgres
from traceability import services as trace

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="needs PostgreSQL row locks and real concurrency")]

THREADS = 8
TODAY = business_today()


def _market(app, lot_quantity: str):
    """A producer's certified, GI-branded lot and ``THREADS`` registered buyers; returns (lot id, buyer ids)."""
    with app.app_context():
        core.ensure_townships()
        tag = secrets.token_hex(3)
        producer = core.create_party({"kind": "organisation", "name": f"马家柚合作社{tag}", "uscc": make_uscc("93"),
                                      "township_code": "danan"})
        parcel = core.create_parcel({"code": f"M-{tag}", "holder_id": producer.id, "township_code": "danan",
                                     "area_ha": Decimal("8"), "land_cover": "orchard", "lat": Decimal("28.4"),
                                     "lon": Decimal("118.2"), "cert_type": "land_contract", "cert_no": "赣并发"})
        brand = trace.create_brand({"name": f"马家柚{tag}", "gi_registration": "AGI00123"})
        trace.authorise_brand(brand.id, producer.id, TODAY - timedelta(days=100))
        product = trace.create_product({"gtin": _gtin(), "name": "马家柚鲜果",
                                        "owner_id": producer.id, "brand_id": brand.id})
        lot = trace.create_lot({"code": f"RACE{tag.upper()}", "product_id": product.id, "producer_id": producer.id,
                                "harvest_date": TODAY - timedelta(days=5), "quantity": Decimal(lot_quantity),
                                "unit": "KGM", "parcel_ids": [parcel.id]})
        trace.grant_certification({"kind": "green_food", "number": f"LB-RACE-{tag}", "issuer": "中国绿色食品发展中心",
                                   "scope": "product", "party_id": producer.id, "product_id": product.id,
                                   "valid_from": TODAY - timedelta(days=10), "valid_until": TODAY + timedelta(days=300)})
        buyers = []
        for n in range(THREADS):
            party = core.create_party({"kind": "organisation", "name": f"食堂{tag}{n}", "uscc": make_uscc("93"),
                                       "township_code": "danan"})
            services.register_buyer({"party_id": party.id, "kind": "canteen", "public": True})
            buyers.append(party.id)
        commit()
        ids = lot.id, buyers
        db.session.remove()
    return ids


def _gtin() -> str:
    from greenfin.core.identifiers import gtin_check_digit

    body = "0690" + "".join(secrets.choice("0123456789") for _ in range(9))
    return body + gtin_check_digit(body)


def _run_at_once(app, work) -> list:
    start = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def run(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                work(n)
                commit()
                outcomes[n] = ("ok", None)
            except (Conflict, ValidationFailed) as exc:
                rollback()
                outcomes[n] = ("refused", exc.code)
            except BaseException as exc:  # noqa: BLE001  (reported by the assertion)
                rollback()
                outcomes[n] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_eight_buyers_ordering_one_lot_at_once_never_oversell():
    app = migrated_app(reset_postgres(f"{PG_DB}_market_race"))
    lot_id, buyers = _market(app, "1000")
    with app.app_context():
        offer = services.make_offer({"lot_id": lot_id, "quantity": Decimal("100"), "unit_price": Decimal("9.5"),
                                     "delivery_from": TODAY, "delivery_until": TODAY + timedelta(days=10)})
        commit()
        offer_id = offer.id
        db.session.remove()

    outcomes = _run_at_once(app, lambda n: services.place_order({"offer_id": offer_id, "quantity": Decimal("30")},
                                                                scope=buyers[n]))
    assert sorted(o[0] for o in outcomes) == ["ok"] * 3 + ["refused"] * (THREADS - 3), outcomes
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"insufficient_quantity"}
    with app.app_context():
        offer = services.get_offer(offer_id)
        reserved = db.session.scalar(select(func.sum(Order.quantity)).where(Order.offer_id == offer_id))
        assert reserved == Decimal("90") and offer.available == Decimal("10")
        position = services.lot_position(lot_id)
        assert position["reserved"] + position["delivered"] + position["on_offer"] <= position["quantity"]
        db.session.remove()
        db.engine.dispose()


def test_concurrent_offers_of_one_lot_never_put_more_on_offer_than_it_holds():
    app = migrated_app(reset_postgres(f"{PG_DB}_market_offer_race"))
    lot_id, _buyers = _market(app, "500")

    def offer(_n):
        services.make_offer({"lot_id": lot_id, "quantity": Decimal("200"), "unit_price": Decimal("9"),
                             "delivery_from": TODAY, "delivery_until": TODAY + timedelta(days=10)})

    outcomes = _run_at_once(app, offer)
    assert sorted(o[0] for o in outcomes) == ["ok"] * 2 + ["refused"] * (THREADS - 2), outcomes
    with app.app_context():
        position = services.lot_position(lot_id)
        assert position["on_offer"] == Decimal("400") and position["left"] == Decimal("100")
        db.session.remove()
        db.engine.dispose()
