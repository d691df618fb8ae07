"""EPCIS capture: strict input (probe item 5), large documents as a job (probe item 9)."""
import pytest
from sqlalchemy import func, select

from greenfin.job_model import Job
from greenfin.extensions import db
from tests.traceability.conftest import epcis_document, observe
from traceability import epcis
from traceability.models import EpcisCapture, EpcisEvent

CAPTURE = "/api/v1/trace/epcis/capture"
LOT = "urn:epc:class:lgtin:0614141.077777.987"


def events_stored():
    return db.session.scalar(select(func.count(EpcisEvent.id)))


@pytest.mark.parametrize("field, value", [
    ("eventTime", "2026-13-01T09:00:00+08:00"),   # month 13
    ("eventTime", "2026-11-01T09:00:00"),         # no zone
    ("eventTime", "2026-02-30T09:00:00Z"),        # no such day
    ("eventTime", "2026-11-01 09:00"),
    ("recordTime", "2026-11-01T25:00:00Z"),
])
def test_probe_5_bad_date_times_answer_422_naming_the_field(api, field, value):
    before = events_stored()
    response = api("producer").post(CAPTURE, json=epcis_document(observe(LOT), observe(LOT, **{field: value})))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [f"epcisBody.eventList.1.{field}"]
    assert "RFC 3339" in response.json["errors"][f"epcisBody.eventList.1.{field}"][0]
    assert events_stored() == before


@pytest.mark.parametrize("urn", ["urn:epc:id:sgtin:0614141..2017", "urn:epc:id:sgtin:", "urn:epc:id:sgtin:x.y.z",
                                 "urn:epc:id:sgtin:0614141.1073460.2017", "urn:epc:id:sscc:0614141.1",
                                 "urn:epc:class:lgtin:0614141.107346"])
def test_probe_5_malformed_epc_urns_answer_422(api, urn):
    event = {"type": "ObjectEvent", "action": "OBSERVE", "eventTime": "2026-11-01T09:00:00Z",
             "eventTimeZoneOffset": "+00:00"}
    event |= {"quantityList": [{"epcClass": urn, "quantity": 1}]} if "class" in urn else {"epcList": [urn]}
    response = api("admin").post(CAPTURE, json=epcis_document(event))
    assert response.status_code == 422, response.json
    field = "epcisBody.eventList.0." + ("quantityList.0.epcClass" if "class" in urn else "epcList.0")
    assert response.json["errors"][field][0].startswith("malformed EPC URN")


def test_probe_5_malformed_urn_elsewhere_in_an_event_answers_422(api):
    response = api("admin").post(CAPTURE, json=epcis_document(observe(LOT, ilmd={"gf:lot": "urn:epc:id:sgtin:1"})))
    assert response.status_code == 422 and "epcisBody.eventList.0" in response.json["errors"]


@pytest.mark.parametrize("event_type", ["TeleportEvent", "AssociationEvent", "", None])
def test_probe_5_unknown_event_types_answer_422(api, event_type):
    response = api("admin").post(CAPTURE, json=epcis_document(observe(LOT, type=event_type)))
    assert response.status_code == 422 and "epcisBody.eventList.0.type" in response.json["errors"]


@pytest.mark.parametrize("quantity", [0, -1, -0.5, "5"])
def test_probe_5_quantities_must_be_positive_numbers(api, quantity):
    document = epcis_document(observe(LOT))
    document["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = quantity
    response = api("producer").post(CAPTURE, json=document)
    assert response.status_code == 422
    assert "epcisBody.eventList.0.quantityList.0.quantity" in response.json["errors"]


def test_documents_that_are_not_epcis_answer_422(api):
    for body in ([], {"type": "EPCISDocument"}, {"epcisBody": {"eventList": "x"}}, "text"):
        response = api("admin").post(CAPTURE, json=body)
        assert response.status_code == 422, (body, response.json)


def test_parse_time_is_strict_rfc_3339():
    assert epcis.parse_time("2005-04-03T20:33:31.116000-06:00").utcoffset().total_seconds() == -6 * 3600
    assert epcis.parse_time("2026-11-01t01:02:03.123456789z").microsecond == 123456
    for bad in ("2026-11-01T09:00:00+24:00", "2026-11-01T09:00:00+0800", "20261101T090000Z", 20261101, None):
        with pytest.raises(ValueError):
            epcis.parse_time(bad)


def large(n, start=0):
    return epcis_document(*[observe(LOT, eventTime=f"2026-11-01T09:{(start + i) // 60 % 60:02d}:{(start + i) % 60:02d}"
                                    f".{(start + i) // 3600:03d}+08:00") for i in range(n)])


def test_probe_9_large_capture_becomes_a_job_and_is_idempotent(app, api, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "TRACE_CAPTURE_INLINE_MAX", 5)
    producer = api("producer")
    before = events_stored()
    small = producer.post(CAPTURE, json=large(5))
    assert small.status_code == 201 and small.json == {"created": 5, "skipped": 0}
    response = producer.post(CAPTURE, json=large(12))
    assert response.status_code == 202, response.json
    assert response.json["events"] == 12 and response.json["job_id"]
    drain_jobs()
    db.session.expire_all()
    job = producer.get(f"/api/v1/jobs/{response.json['job_id']}").json
    assert job["status"] == "finished", job
    assert job["result"] == {"capture_id": response.json["capture_id"], "created": 7, "skipped": 5}
    assert events_stored() == before + 12
    again = producer.post(CAPTURE, json=large(12))
    drain_jobs()
    db.session.expire_all()
    assert producer.get(f"/api/v1/jobs/{again.json['job_id']}").json["result"]["created"] == 0
    assert events_stored() == before + 12
    assert db.session.get(EpcisCapture, response.json["capture_id"]).status == "stored"


def test_probe_9_large_capture_job_refuses_all_or_nothing(app, api, drain_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "TRACE_CAPTURE_INLINE_MAX", 5)
    document = large(10)
    document["epcisBody"]["eventList"][9]["eventTime"] = "2026-13-01T00:00:00Z"
    before = events_stored()
    response = api("producer").post(CAPTURE, json=document)
    assert response.status_code == 202
    drain_jobs()
    db.session.expire_all()
    job = db.session.get(Job, response.json["job_id"])
    assert job.status == "finished" and job.result["created"] == 0
    assert list(job.result["errors"]) == ["epcisBody.eventList.9.eventTime"]
    assert events_stored() == before
    assert db.session.get(EpcisCapture, response.json["capture_id"]).status == "refused"
