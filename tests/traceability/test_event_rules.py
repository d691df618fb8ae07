"""Events that cannot have happened are refused at every door: page, API, CLI and EPCIS capture
(traceability/services/event_rules.py)."""
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from greenfin.errors import DomainError, ValidationFailed
from greenfin.extensions import db
from tests.traceability.conftest import epcis_document, observe
from traceability import digital_link as dl
from traceability import services
from traceability.models import EpcisEvent
from traceability.services import event_rules

CST = timezone(timedelta(hours=8))
FUTURE = "2030-06-01T10:00"


def events_stored() -> int:
    return db.session.scalar(select(func.count(EpcisEvent.id)))


def test_future_dated_negative_event_is_refused_naming_both_fields(create_lot):
    lot = create_lot()
    before = events_stored()
    with pytest.raises(ValidationFailed) as info:
        services.record_event(lot, "shipping", {"event_time": datetime(2030, 6, 1, 10, tzinfo=CST),
                                                "quantity": Decimal("-100"), "ship_to_id": lot.producer_id})
    assert info.value.errors == {"quantity": ["must be a positive number"], "event_time": [event_rules.IN_FUTURE]}
    assert events_stored() == before


def test_a_clock_a_little_fast_is_tolerated_but_not_more(create_lot):
    lot = create_lot()
    now = services.utcnow()
    services.record_event(lot, "inspection", {"event_time": now + timedelta(minutes=4)})
    with pytest.raises(ValidationFailed) as info:
        services.record_event(lot, "grading", {"event_time": now + timedelta(minutes=6)})
    assert info.value.errors == {"event_time": [event_rules.IN_FUTURE]}


def test_harvest_after_processing_is_refused(create_lot, create_product):
    lot = create_lot()
    t = datetime(2026, 10, 20, 8, tzinfo=CST)
    tea = services.create_lot({"code": "TEA-" + lot.code, "product_id": create_product(owner=lot.producer).id,
                               "producer_id": lot.producer_id, "quantity": Decimal("80"), "unit": "KGM"})
    services.transform_lot([(lot, Decimal("300"))], tea, {"event_time": t})
    with pytest.raises(ValidationFailed) as info:
        services.record_event(lot, "harvest", {"event_time": t + timedelta(days=1)})
    assert info.value.errors == {"event_time": [event_rules.COMMISSIONING_LATE]}
    services.record_event(lot, "harvest", {"event_time": t - timedelta(days=1)})  # before processing: fine


def test_steps_before_the_harvest_or_its_date_and_receiving_before_shipping_are_refused(create_lot, create_party):
    lot = create_lot()  # harvest date 2026-09-15
    buyer = create_party(name="上海果品批发市场")
    t = datetime(2026, 10, 20, 8, tzinfo=CST)
    with pytest.raises(ValidationFailed) as info:
        services.record_event(lot, "inspection", {"event_time": datetime(2026, 9, 14, 23, tzinfo=CST)})
    assert info.value.errors == {"event_time": [event_rules.BEFORE_HARVEST_DATE]}
    services.record_event(lot, "harvest", {"event_time": t})
    with pytest.raises(ValidationFailed) as info:
        services.record_event(lot, "grading", {"event_time": t - timedelta(hours=1)})
    assert info.value.errors == {"event_time": [event_rules.BEFORE_COMMISSIONING]}
    services.record_event(lot, "shipping", {"event_time": t + timedelta(days=2), "ship_to_id": buyer.id})
    with pytest.raises(ValidationFailed) as info:
        services.record_event(lot, "receiving", {"event_time": t + timedelta(days=1), "ship_to_id": buyer.id})
    assert info.value.errors == {"event_time": [event_rules.RECEIVED_BEFORE_SHIPPED]}
    services.record_event(lot, "receiving", {"event_time": t + timedelta(days=3), "ship_to_id": buyer.id})
    services.record_event(lot, "shipping", {"event_time": t + timedelta(days=4), "ship_to_id": buyer.id})  # again: fine


STEPS = ["harvest", "inspection", "grading", "shipping", "receiving", "retail"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(min_value=-3 * 24, max_value=40 * 24)),
                         min_size=1, max_size=8))
def test_whatever_is_tried_the_stored_history_keeps_the_harvest_first(create_lot, create_party, attempts):
    """Invariant: of any sequence of attempts, what is stored never has a step before the lot's
    harvest, before its harvest date, or in the future."""
    lot = create_lot()
    buyer = create_party(name="买方")
    start = datetime(2026, 9, 15, 0, tzinfo=CST)
    for kind, hours in attempts:
        data = {"event_time": start + timedelta(hours=hours), "reference": f"R{hours}"}
        if kind in ("shipping", "receiving"):
            data["ship_to_id"] = buyer.id
        try:
            services.record_event(lot, kind, data)
        except DomainError:  # refused (422), or the same event twice (409)
            pass
    stored = services.lot_events(lot.id)
    harvests = [e.event_time for e in stored if e.biz_step == "commissioning"]
    others = [e.event_time for e in stored if e.biz_step != "commissioning"]
    assert all(e.event_time.astimezone(CST).date() >= lot.harvest_date for e in stored)
    assert all(e.event_time <= services.utcnow() + event_rules.CLOCK_SKEW for e in stored)
    if harvests and others:
        assert min(harvests) <= min(others)
    db.session.rollback()


def test_api_refuses_the_future_negative_event_and_stores_nothing(api, create_lot):
    admin = api("admin")
    lot = create_lot()
    before = events_stored()
    response = admin.post(f"/api/v1/trace/lots/{lot.id}/events",
                          json={"kind": "retail", "event_time": "2030-06-01T10:00:00+08:00", "quantity": "-100"})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["event_time"] == [event_rules.IN_FUTURE] and errors["quantity"] == ["must be a positive number"]
    assert events_stored() == before


def test_page_shows_the_errors_at_the_fields_in_chinese_and_stores_nothing(client, create_user, login, create_lot):
    user = create_user("producer")
    login(user)
    lot = create_lot(producer=user.party)
    before = events_stored()
    response = client.post(f"/trace/lots/{lot.id}/events", data={
        "ev-kind": "retail", "ev-event_time": FUTURE, "ev-quantity": "-100", "ev-ship_to_id": 0,
        "ev-result": "conformant"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "尚未发生的环节不能登记" in html and "必须是大于零的数字" in html
    assert events_stored() == before


def test_epcis_capture_refuses_future_events_through_api_and_cli(api, create_lot, runner, tmp_path):
    lot = create_lot()
    epc_class = dl.lgtin(lot.product.gtin, lot.code)
    document = epcis_document(observe(epc_class, eventTime="2030-06-01T10:00:00+08:00"))
    before = events_stored()
    response = api("admin").post("/api/v1/trace/epcis/capture", json=document)
    assert response.status_code == 422
    assert response.json["errors"] == {"epcisBody.eventList.0.eventTime": [event_rules.IN_FUTURE]}
    negative = epcis_document(observe(epc_class, quantityList=[{"epcClass": epc_class, "quantity": -100,
                                                                "uom": "KGM"}]))
    assert api("admin").post("/api/v1/trace/epcis/capture", json=negative).status_code == 422
    path = tmp_path / "future.jsonld"
    path.write_text(json.dumps(document))
    result = runner.invoke(args=["trace", "import-epcis", str(path)])
    assert result.exit_code == 2 and event_rules.IN_FUTURE in result.output
    assert events_stored() == before


def test_epcis_capture_keeps_the_step_order_within_the_document(create_lot):
    lot = create_lot()
    epc_class = dl.lgtin(lot.product.gtin, lot.code)
    harvest = observe(epc_class, action="ADD", bizStep="commissioning", disposition="active",
                      eventTime="2026-11-05T09:00:00+08:00")
    shipped = observe(epc_class, bizStep="https://ref.gs1.org/cbv/BizStep-shipping", disposition="in_transit",
                      eventTime="2026-11-02T09:00:00+08:00")
    with pytest.raises(ValidationFailed) as info:
        services.import_epcis(epcis_document(shipped, harvest))
    assert info.value.errors == {"epcisBody.eventList.1.eventTime": [event_rules.COMMISSIONING_LATE]}
    assert services.lot_events(lot.id) == []
    harvest["eventTime"] = "2026-11-01T09:00:00+08:00"
    assert services.import_epcis(epcis_document(shipped, harvest)) == {"created": 2, "skipped": 0}


# ---------------------------------------------------------------- label counts (the same door for every entry)


def test_label_count_of_zero_is_answered_at_the_field_on_every_door(client, create_user, login, create_lot, api,
                                                                     runner, tmp_path):
    from traceability.models import LabelBatch

    user = create_user("producer")
    login(user)
    lot = create_lot(producer=user.party)
    batches = lambda: db.session.scalar(select(func.count(LabelBatch.id)))  # noqa: E731
    before = batches()
    response = client.post(f"/trace/lots/{lot.id}/labels", data={"lb-count": "0", "lb-layout": "a4-3x8"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "必须是 1 至 100,000 之间的整数" in html and "该字段是必填字段" not in html
    # The form posts to its own section, so the answer opens where the message is.
    assert f'action="/trace/lots/{lot.id}/labels#labels"' in html
    empty = client.post(f"/trace/lots/{lot.id}/labels", data={"lb-count": "", "lb-layout": "a4-3x8"})
    assert empty.status_code == 422 and "请填写标签数量。" in empty.get_data(as_text=True)
    answer = api("admin").post(f"/api/v1/trace/lots/{lot.id}/label-batches", json={"count": 0})
    assert answer.status_code == 422
    assert "must be a whole number from 1 to 100,000" in json.dumps(answer.json)
    result = runner.invoke(args=["trace", "labels", "--lot", lot.code, "--count", "0",
                                 "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2 and "count: must be a whole number from 1 to 100,000" in result.output
    assert batches() == before


def test_lot_form_refuses_a_future_harvest_date_at_the_field_in_chinese(client, create_user, login, create_product,
                                                                         create_parcel):
    from traceability.models import Lot

    user = create_user("producer")
    login(user)
    product = create_product(owner=user.party)
    parcel = create_parcel(holder_id=user.party_id)
    response = client.post("/trace/lots/new", data={
        "product_id": product.id, "producer_id": user.party_id, "code": "MJY-FUTURE", "quantity": "-100",
        "unit": "KGM", "harvest_date": "2030-06-01", "parcel_ids": [parcel.id]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "不能是将来的日期" in html and "必须是大于零的数字" in html
    assert db.session.scalar(select(func.count(Lot.id)).where(Lot.code == "MJY-FUTURE")) == 0
