"""Feedback and control in Chromium: a recall asks for confirmation first, the jobs list links each
job to its subject, and the review queue approves ratings in bulk; every action answers with a message."""
import re
import secrets

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.browser


def _fresh_lot(demo_app):
    """A lot of its own for this test (the demo's lots stay as other tests expect them)."""
    from greenfin.extensions import db
    from traceability import services
    from traceability.models import Lot

    with demo_app.app_context():
        model = db.session.scalar(select(Lot).where(Lot.recalled_at.is_(None)).order_by(Lot.id))
        lot = services.create_lot({"code": f"CONFIRM{secrets.token_hex(2).upper()}", "product_id": model.product_id,
                                   "producer_id": model.producer_id, "harvest_date": model.harvest_date,
                                   "quantity": model.quantity, "unit": model.unit,
                                   "parcel_ids": [p.id for p in model.parcels]})
        db.session.commit()
        return lot.id


def _recalled(demo_app, lot_id):
    from greenfin.extensions import db
    from traceability.models import Lot

    with demo_app.app_context():
        return db.session.get(Lot, lot_id).recalled_at is not None


def test_recall_asks_for_confirmation_first(page, live_server, sign_in, demo_app):
    lot_id = _fresh_lot(demo_app)
    sign_in(page, "regulator")
    page.goto(f"{live_server}/trace/lots/{lot_id}")
    form = page.locator("form.recall")
    form.locator("textarea").fill("抽检农残超标")
    form.locator("button[type=submit]").click()
    # Not confirmed: the browser holds the form back and nothing is recalled.
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/trace/lots/{lot_id}")
    assert not _recalled(demo_app, lot_id)
    assert form.locator("input[type=checkbox]").evaluate("el => el.validity.valueMissing")
    # The server refuses an unconfirmed recall too (the box left out of the POST).
    form.locator("input[type=checkbox]").evaluate("el => { el.required = false; }")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "请勾选确认" in page.locator(".flash.error").first.inner_text()
    assert not _recalled(demo_app, lot_id)
    # Confirmed: recalled, and said so.
    form = page.locator("form.recall")
    form.locator("textarea").fill("抽检农残超标")
    form.locator("input[type=checkbox]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "批次已召回" in page.locator(".flash").first.inner_text()
    assert _recalled(demo_app, lot_id)


def test_jobs_list_links_each_job_to_its_subject(page, live_server, sign_in):
    sign_in(page, "regulator")
    page.goto(f"{live_server}/credit/review")
    page.locator("form[action$='/credit/runs'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "评级批次已启动" in page.content()  # the message after starting a run
    page.click("text=全部任务")
    page.wait_for_load_state()
    assert page.url.endswith("/jobs")
    rows = page.locator("table.jobs tbody tr")
    assert rows.count() >= 1
    first = rows.first
    assert "生态信用评级批次" in first.inner_text()  # the kind as a label, not a function name
    assert "credit.jobs" not in page.locator("main").inner_text()
    # Filters are choices; filtering by status keeps the finished run.
    page.select_option("select[name=status]", "finished")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "status=finished" in page.url and page.locator("table.jobs tbody tr a.subject").count() >= 1
    page.locator("table.jobs tbody tr a.subject").first.click()
    page.wait_for_load_state()
    assert "/credit/review" in page.url and "period=" in page.url


def test_review_queue_approves_ratings_in_bulk(page, live_server, sign_in, demo_app):
    from credit.models import Rating
    from greenfin.extensions import db

    def computed():
        with demo_app.app_context():
            return db.session.scalar(select(func.count(Rating.id)).where(Rating.state == "computed"))

    sign_in(page, "regulator")
    page.goto(f"{live_server}/credit/review")
    # The run form offers the period waiting for review.
    assert page.locator("form[action$='/credit/runs'] input[name=period]").input_value() == "2026-Q4"
    boxes = page.locator("form.bulk-review input[name=rating_ids]")
    shown, before = boxes.count(), computed()
    assert shown >= 3 and before >= shown
    boxes.nth(0).uncheck()  # held back
    page.locator("form.bulk-review label.confirm input").check()
    page.click("form.bulk-review button[value=approve]")
    page.wait_for_load_state()
    message = page.locator(".flash.success").first.inner_text()
    assert re.search(rf"{shown - 1} 项评级已批准进入公示", message), message
    assert computed() == before - (shown - 1)
