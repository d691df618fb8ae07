"""The market in a browser, on the demo district: the canteen's buyer orders from a match of its
demand, the cooperative confirms and ships, the buyer receives by scanning the cases' labels (a label
of another lot first, refused), at 1366 and 390 px without sideways scroll."""
import pytest
from sqlalchemy import select

from greenfin.extensions import db
from greenfin.market.models import Order
from traceability import services as trace

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, page.url


def test_order_ship_receive(browser, live_server, sign_in, demo_app):
    with demo_app.app_context():
        a02 = next(lot for lot in db.session.scalars(trace.lot_query()) if lot.code.endswith("-A02"))
        code, lot_id = a02.code, a02.id
        own = [s for batch in db.session.scalars(trace.batch_query(lot_id=lot_id))
               for _u, s in trace.iter_batch_labels(batch)][-3:]
        other = next(lot for lot in db.session.scalars(trace.lot_query()) if lot.code.endswith("-H01"))
        foreign = [s for batch in db.session.scalars(trace.batch_query(lot_id=other.id))
                   for _u, s in trace.iter_batch_labels(batch)][:1]
        db.session.remove()

    buyer = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(buyer, "buyer")
    buyer.goto(f"{live_server}/market/demand")
    _no_sideways_scroll(buyer)
    buyer.click("table a")  # the seeded demand
    row = buyer.locator("tr", has_text=code)
    row.locator("input[name=quantity]").fill("40")
    row.locator("button", has_text="下单").click()
    buyer.wait_for_load_state()
    assert "/market/orders" in buyer.url and "数量已锁定" in buyer.inner_text("body")
    with demo_app.app_context():
        order_id = db.session.scalar(select(Order.id).where(Order.lot_id == lot_id, Order.status == "placed"))
        db.session.remove()
    assert order_id

    producer = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    sign_in(producer, "producer")
    producer.goto(f"{live_server}/market/orders")
    _no_sideways_scroll(producer)
    producer.locator(f"form[action='/market/orders/{order_id}/confirm'] button").click()
    producer.wait_for_load_state()
    producer.locator(f"form[action='/market/orders/{order_id}/ship'] button").click()
    producer.wait_for_load_state()
    assert "发货事件已记录" in producer.inner_text("body")

    buyer.goto(f"{live_server}/market/orders/{order_id}/receive")
    buyer.fill("textarea[name=serials]", "\n".join(own[:1] + foreign))
    buyer.click("main button[type=submit]")
    buyer.wait_for_load_state()
    assert "其他批次的标签" in buyer.inner_text("body")
    buyer.fill("textarea[name=serials]", "\n".join(own))
    buyer.click("main button[type=submit]")
    buyer.wait_for_load_state()
    assert "收货事件已记录" in buyer.inner_text("body")
    _no_sideways_scroll(buyer)
    with demo_app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == "received" and order.received_serials == sorted(own)
        db.session.remove()
