"""EPCIS 2.0: events for every step, exports valid against our capture schema, hash IDs, import.

Conformance with GS1's own schema and examples: test_epcis_conformance.py (needs ../shared)."""
import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from traceability import epcis, services
from traceability.services.capture import import_epcis
from traceability.models import EpcisEvent

CST = timezone(timedelta(hours=8))


def assert_valid(document):
    assert epcis.document_errors(document) == {}


def export(lot_id=None) -> dict:
    buf = io.StringIO()
    services.export_epcis(buf, lot_id)
    return json.loads(buf.getvalue())


@pytest.fixture
def journey(create_lot, create_party, create_product, issue_labels):
    """A pomelo lot through every step, and a pomelo-tea lot made from it."""
    lot = create_lot()
    issue_labels(lot, 12)
    buyer = create_party(name="上海果品批发市场")
    t = datetime(2026, 10, 20, 8, 0, tzinfo=CST)
    services.record_event(lot, "harvest", {"event_time": t})
    services.record_event(lot, "inspection", {"event_time": t + timedelta(hours=3), "reference": "JC-2026-001",
                                              "result": "conformant", "note": "农残未检出"})
    services.record_event(lot, "grading", {"event_time": t + timedelta(hours=5), "grade": "特级"})
    services.record_event(lot, "packing", {"event_time": t + timedelta(hours=6), "per_carton": 4})
    services.record_event(lot, "shipping", {"event_time": t + timedelta(days=1), "ship_to_id": buyer.id,
                                            "reference": "WB-778"})
    services.record_event(lot, "receiving", {"event_time": t + timedelta(days=2), "ship_from_id": lot.producer_id,
                                             "ship_to_id": buyer.id})
    services.record_event(lot, "retail", {"event_time": t + timedelta(days=3), "quantity": Decimal("5")})
    tea_product = create_product(owner=lot.producer, brand=lot.product.brand, name="马家柚茶")
    tea = services.create_lot({"code": "TEA-" + lot.code, "product_id": tea_product.id, "producer_id": lot.producer_id,
                               "quantity": Decimal("80"), "unit": "KGM"})
    services.transform_lot([(lot, Decimal("300"))], tea, {"event_time": t + timedelta(days=4), "reference": "PO-9"})
    db.session.commit()
    return lot, tea, buyer


def test_export_of_every_step_validates_against_the_schema(journey):
    lot, tea, _buyer = journey
    document = export()
    assert_valid(document)
    events = document["epcisBody"]["eventList"]
    types = {e["type"] for e in events}
    assert types == {"ObjectEvent", "AggregationEvent", "TransformationEvent"}
    steps = {e["bizStep"] for e in events}
    assert {"commissioning", "inspecting", "packing", "shipping", "receiving", "retail_selling"} <= steps
    packing = [e for e in events if e["type"] == "AggregationEvent"]
    assert len(packing) == 4  # 3 cartons of 4 labelled items, then the pallet of 3 cartons
    pallet = packing[-1]
    assert len(pallet["childEPCs"]) == 3 and all("/00/" in c for c in pallet["childEPCs"])
    assert all(e["eventID"] == epcis.event_hash(e) for e in events)
    lot_only = export(tea.id)
    assert_valid(lot_only)
    assert [e["type"] for e in lot_only["epcisBody"]["eventList"]] == ["TransformationEvent"]


def test_event_hash_ignores_representation():
    a = {"type": "ObjectEvent", "eventTime": "2026-10-20T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
         "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
         "epcList": ["https://id.gs1.org/01/06901234567892/21/B", "https://id.gs1.org/01/06901234567892/21/A"],
         "recordTime": "2026-10-21T00:00:00Z"}
    b = {"epcList": ["https://id.gs1.org/01/06901234567892/21/A", "https://id.gs1.org/01/06901234567892/21/B"],
         "disposition": "https://ref.gs1.org/cbv/Disp-in_transit", "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
         "action": "OBSERVE", "eventTimeZoneOffset": "+08:00", "eventTime": "2026-10-20T00:00:00.000Z",
         "type": "ObjectEvent", "eventID": "ni:///sha-256;ignored?ver=CBV2.0"}
    assert epcis.event_hash(a) == epcis.event_hash(b)
    assert epcis.event_hash(a).startswith("ni:///sha-256;") and epcis.event_hash(a).endswith("?ver=CBV2.0")
    c = dict(a, disposition="damaged")
    assert epcis.event_hash(c) != epcis.event_hash(a)
    assert epcis.prehash(a).startswith("eventType=ObjectEventeventTime=2026-10-20T00:00:00.000Z"
                                       "eventTimeZoneOffset=+08:00epcListepc=https://id.gs1.org/01/06901234567892/21/A")


def test_urn_epcs_become_digital_link():
    assert epcis.canonical_uri("urn:epc:id:sgtin:0614141.107346.2017") == \
        "https://id.gs1.org/01/10614141073464/21/2017"
    assert epcis.canonical_uri("urn:epc:id:sscc:0614141.1234567890") == "https://id.gs1.org/00/106141412345678908"


def test_import_refuses_invalid_documents_and_stores_nothing(journey):
    document = export()
    before = db.session.scalar(select(func.count(EpcisEvent.id)))
    bad = json.loads(json.dumps(document))
    bad["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = "+25:00"
    bad["epcisBody"]["eventList"].append({"type": "ObjectEvent", "action": "FLY"})
    with pytest.raises(ValidationFailed) as info:
        import_epcis(bad)
    assert "epcisBody.eventList.0.eventTimeZoneOffset" in info.value.errors
    assert "epcisBody.eventList.{}".format(len(bad["epcisBody"]["eventList"]) - 1) in info.value.errors
    assert db.session.scalar(select(func.count(EpcisEvent.id))) == before


def test_reimport_changes_nothing_and_new_events_link_to_lots(journey):
    lot, _tea, _ = journey
    document = export()
    assert import_epcis(document) == {"created": 0, "skipped": len(document["epcisBody"]["eventList"])}
    partner = {"@context": epcis.CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
               "creationDate": "2026-11-01T00:00:00Z", "epcisBody": {"eventList": [{
                   "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
                   "eventTime": "2026-11-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
                   "quantityList": [{"epcClass": f"https://id.gs1.org/01/{lot.product.gtin}/10/{lot.code}",
                                     "quantity": 100, "uom": "KGM"}]}]}}
    assert import_epcis(partner) == {"created": 1, "skipped": 0}
    assert import_epcis(json.loads(json.dumps(partner))) == {"created": 0, "skipped": 1}
    assert any(e.source == "import" for e in services.lot_events(lot.id))


def test_cli_export_and_import(runner, journey, tmp_path):
    out = tmp_path / "all.jsonld"
    result = runner.invoke(args=["trace", "export-epcis", "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert_valid(document)
    again = runner.invoke(args=["trace", "import-epcis", str(out)])
    assert again.exit_code == 0 and "0 events stored" in again.output
    document["epcisBody"]["eventList"][0]["action"] = "FLY"
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(document))
    refused = runner.invoke(args=["trace", "import-epcis", str(bad)])
    assert refused.exit_code == 2 and "action" in refused.output


def test_export_streams_event_by_event(journey, monkeypatch):
    writes = []

    class Sink:
        def write(self, text):
            writes.append(text)

    n = services.export_epcis(Sink())
    assert n >= 10 and len(writes) == n + 2  # head, one write per event, tail
