"""Our EPCIS capture schema against GS1's official schema and examples in ../shared/epcis.

The running app never reads ../shared: it validates with traceability/epcis_capture_schema.json.
These tests prove that what we accept and what we export is valid EPCIS 2.0 by GS1's schema, and
that GS1's examples are accepted. Without ../shared they are skipped (the reason says so); every
other EPCIS test runs anyway.
"""
import copy
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from tests.conftest import SHARED
from tests.traceability.conftest import epcis_document, observe
from traceability import epcis, services
from traceability.services.capture import import_epcis

OFFICIAL = SHARED / "epcis" / "EPCIS-JSON-Schema.json"
EXAMPLES = sorted((SHARED / "epcis" / "examples").glob("*.jsonld"))
pytestmark = pytest.mark.skipif(
    not OFFICIAL.exists(),
    reason=f"GS1's EPCIS 2.0 schema is not at {OFFICIAL}: conformance of our capture schema and export "
           "with the official schema and examples is not checked (the app itself does not need it)")


@pytest.fixture(scope="module")
def official():
    return Draft7Validator(json.loads(OFFICIAL.read_text()), format_checker=epcis.format_checker())


def official_errors(validator, document):
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_official_examples_are_accepted_and_imported(app, official):
    assert EXAMPLES, "no examples in ../shared/epcis/examples"
    for path in EXAMPLES:
        document = json.loads(path.read_text())
        assert official_errors(official, document) == [], path.name
        assert epcis.document_errors(document) == {}, path.name
        assert import_epcis(document)["created"] >= 1
        assert import_epcis(json.loads(path.read_text()))["created"] == 0


def test_our_export_is_valid_by_the_official_schema(app, official, create_lot, create_party):
    lot = create_lot()
    buyer = create_party()
    for kind, data in (("harvest", {}), ("inspection", {"reference": "JC-1", "result": "non_conformant"}),
                       ("grading", {"grade": "特级"}), ("packing", {}), ("shipping", {"ship_to_id": buyer.id}),
                       ("retail", {"quantity": 5})):
        services.record_event(lot, kind, data)
    services.recall_lot(lot, "抽检不合格")
    buf = io.StringIO()
    services.export_epcis(buf)
    document = json.loads(buf.getvalue())
    assert official_errors(official, document) == []
    assert epcis.document_errors(document) == {}


MUTATIONS = [
    ("eventTime", "2026-13-01T09:00:00+08:00"), ("eventTime", "2026-11-01T09:00:00"),
    ("eventTimeZoneOffset", "+25:00"), ("action", "FLY"), ("bizStep", 7),
    ("disposition", "urn:epcglobal:cbv:disp:nonsense"), ("readPoint", {"name": "x"}),
    ("quantityList", [{"quantity": 1}]), ("quantityList", [{"epcClass": "x:y", "extra": 1}]),
    ("sourceList", [{"source": "urn:x:1"}]), ("eventTime", None),
]


@pytest.mark.parametrize("field, value", MUTATIONS)
def test_what_the_official_schema_refuses_we_refuse(official, field, value):
    document = epcis_document(observe("urn:epc:class:lgtin:0614141.077777.987"))
    document["epcisBody"]["eventList"][0][field] = value
    assert official_errors(official, document) != []
    assert epcis.document_errors(document) != {}


# Valid EPCIS 2.0 that we refuse on purpose (docs/traceability.md, "Capture").
STRICTER = [("type", "TeleportEvent"), ("quantityList", [{"epcClass": "urn:x:1", "quantity": -1}]),
            ("quantityList", [{"epcClass": "urn:x:1", "quantity": 0}]), ("sensorElementList", []),
            ("epcList", ["urn:epc:id:sgtin:0614141..2017"])]


@pytest.mark.parametrize("field, value", STRICTER)
def test_our_stricter_rules_refuse_some_valid_epcis(official, field, value):
    document = epcis_document(observe("urn:epc:class:lgtin:0614141.077777.987"))
    document["epcisBody"]["eventList"][0][field] = value
    assert official_errors(official, document) == []
    assert epcis.document_errors(document) != {}


WORDS = st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ0123456789", min_size=1, max_size=8)
EVENTS = st.fixed_dictionaries({
    "type": st.just("ObjectEvent"), "action": st.sampled_from(["OBSERVE", "ADD", "DELETE"]),
    "eventTime": st.datetimes(timezones=st.just(epcis.timezone.utc)).map(epcis.epcis_time),
    "eventTimeZoneOffset": st.sampled_from(["+08:00", "-06:00", "+00:00", "+14:00"]),
    "quantityList": st.lists(st.fixed_dictionaries({
        "epcClass": WORDS.map(lambda lot: f"https://id.gs1.org/01/06901234567892/10/{lot}"),
        "quantity": st.decimals(min_value="0.001", max_value="100000", places=3).map(float)},
        optional={"uom": st.sampled_from(["KGM", "H87", "XBX"])}), min_size=1, max_size=3),
}, optional={
    "bizStep": st.sampled_from([v[2] for v in epcis.KIND_VOCAB.values()] + ["https://ref.gs1.org/cbv/BizStep-shipping"]),
    "disposition": st.sampled_from([v[3] for v in epcis.KIND_VOCAB.values()]),
    "readPoint": st.just({"id": "geo:28.4,118.2"}),
    "bizTransactionList": st.just([{"type": "desadv", "bizTransaction": "urn:greenfin:doc:WB-1"}]),
    "gf:kind": st.sampled_from(list(epcis.KIND_VOCAB)),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(EVENTS, min_size=1, max_size=3), bad=st.sampled_from([None] + MUTATIONS))
def test_generated_documents_agree_with_the_official_schema(official, events, bad):
    """Generated documents of our subset are valid by both schemas; broken ones by neither."""
    document = epcis_document(*copy.deepcopy(events))
    if bad:
        document["epcisBody"]["eventList"][0][bad[0]] = bad[1]
    ours, theirs = epcis.document_errors(document), official_errors(official, document)
    assert (ours == {}) == (theirs == []) == (bad is None), (ours, theirs)
