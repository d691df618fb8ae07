"""Probe item 9: a producer's labels per business day, and label drawing on its own queue."""
from datetime import timedelta

from sqlalchemy import update

from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.jobs import _PENDING
from traceability import services
from traceability.models import LabelBatch


def test_probe_9_producer_label_quota_per_business_day(app, api, create_user, create_lot, monkeypatch):
    monkeypatch.setitem(app.config, "TRACE_LABELS_PER_DAY", 100)
    user = create_user("producer")
    lot = create_lot(producer=user.party)
    producer = api("producer", user=user)
    url = f"/api/v1/trace/lots/{lot.id}/label-batches"
    assert producer.post(url, json={"count": 60}).status_code == 202
    refused = producer.post(url, json={"count": 41})
    assert refused.status_code == 429 and refused.json["code"] == "label_quota_exceeded"
    assert "40" in refused.json["errors"]["count"][0] and "40 of 100" in refused.json["message"]
    assert db.session.query(LabelBatch).filter_by(lot_id=lot.id).count() == 1
    assert producer.post(url, json={"count": 40}).status_code == 202
    # Admins are not held to it (their batches still count toward the producer's day).
    assert api("admin").post(url, json={"count": 50}).status_code == 202
    assert producer.post(url, json={"count": 1}).status_code == 429
    # Yesterday's batches do not count.
    db.session.execute(update(LabelBatch).where(LabelBatch.lot_id == lot.id)
                       .values(created_at=services.utcnow() - timedelta(days=1, hours=1)))
    db.session.commit()
    assert producer.post(url, json={"count": 100}).status_code == 202


def test_label_quota_page_shows_the_allowance_translated(app, client, create_user, login, create_lot, monkeypatch):
    monkeypatch.setitem(app.config, "TRACE_LABELS_PER_DAY", 10)
    user = create_user("producer")
    login(user)
    lot = create_lot(producer=user.party)
    response = client.post(f"/trace/lots/{lot.id}/labels", data={"lb-count": 11, "lb-layout": "a4-3x8"})
    assert response.status_code == 429
    assert "10" in response.get_data(as_text=True) and "今日" in response.get_data(as_text=True)


def test_label_sheets_go_to_the_low_queue(app, create_lot):
    lot = create_lot()
    batch = services.start_label_sheet(lot, 3, "a4-3x8", title="labels")
    assert (batch.job_id, "low") in db.session.info[_PENDING]
    assert db.session.get(Job, batch.job_id).func == "traceability.jobs.render_label_sheet"
    db.session.rollback()
