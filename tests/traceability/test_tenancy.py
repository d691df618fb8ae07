"""Probe items 1 and 2 of issue 14: a producer writes only into its own lots and products."""
import json

from sqlalchemy import func, select

from greenfin.extensions import db
from tests.traceability.conftest import epcis_document, observe
from traceability import services
from traceability.services import capture
from traceability.models import EpcisEvent, Lot

CAPTURE = "/api/v1/trace/epcis/capture"


def lgtin(lot, code=None):
    return f"https://id.gs1.org/01/{lot.product.gtin}/10/{code or lot.code}"


def events_stored():
    return db.session.scalar(select(func.count(EpcisEvent.id)))


def probe_document(epc_class):
    """The probe's document: a "recall" and a non-conformant inspection of a lot."""
    return epcis_document(
        observe(epc_class, bizStep="holding", disposition="recalled", **{"gf:kind": "recall"}),
        observe(epc_class, bizStep="inspecting", disposition="non_conformant", eventTime="2026-11-02T09:00:00+08:00"))


def test_probe_1_capture_into_foreign_lot_is_refused(api, create_lot):
    theirs = create_lot()
    producer = api("producer")
    before = events_stored()
    response = producer.post(CAPTURE, json=probe_document(lgtin(theirs)))
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"epcisBody.eventList.0.quantityList.0.epcClass": [capture.NOT_YOURS],
                                       "epcisBody.eventList.1.quantityList.0.epcClass": [capture.NOT_YOURS]}
    assert events_stored() == before and services.lot_events(theirs.id) == []


def test_probe_1_foreign_and_missing_lots_answer_alike(api, create_lot):
    theirs = create_lot()
    producer = api("producer")
    foreign = producer.post(CAPTURE, json=probe_document(lgtin(theirs)))
    missing = producer.post(CAPTURE, json=probe_document(lgtin(theirs, code="NO-SUCH-LOT")))
    assert (foreign.status_code, foreign.json) == (missing.status_code, missing.json)


def test_probe_1_foreign_items_in_every_identifier_field_are_refused(api, create_lot, issue_labels):
    theirs = create_lot()
    serial = next(services.iter_batch_labels(issue_labels(theirs, 2)))[1]
    sgtin = f"https://id.gs1.org/01/{theirs.product.gtin}/21/{serial}"
    base = {"eventTime": "2026-11-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00"}
    document = epcis_document(
        {"type": "ObjectEvent", "action": "OBSERVE", "epcList": [sgtin], **base},
        {"type": "AggregationEvent", "action": "ADD", "parentID": "https://id.gs1.org/00/106141412345678908",
         "childEPCs": [sgtin], **base},
        {"type": "TransformationEvent", "inputQuantityList": [{"epcClass": lgtin(theirs), "quantity": 5}],
         "outputEPCList": ["https://id.gs1.org/01/70614141123451/21/X1"], **base})
    before = events_stored()
    response = api("producer").post(CAPTURE, json=document)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"epcisBody.eventList.0.epcList.0", "epcisBody.eventList.1.childEPCs.0",
                                            "epcisBody.eventList.2.inputQuantityList.0.epcClass"}
    assert events_stored() == before


def test_capture_into_own_lot_links_it_and_staff_may_capture_for_anyone(api, create_user, create_lot):
    user = create_user("producer")
    mine, theirs = create_lot(producer=user.party), create_lot()
    response = api("producer", user=user).post(CAPTURE, json=probe_document(lgtin(mine)))
    assert response.status_code == 201 and response.json == {"created": 2, "skipped": 0}
    # A producer's "recall" is its own statement, not a regulator's recall.
    assert sorted(e.kind for e in services.lot_events(mine.id)) == ["imported", "imported"]
    staff = api("admin").post(CAPTURE, json=probe_document(lgtin(theirs)))
    assert staff.status_code == 201 and staff.json == {"created": 2, "skipped": 0}
    assert sorted(e.kind for e in services.lot_events(theirs.id)) == ["imported", "recall"]


def test_capture_of_other_companies_goods_is_stored_unlinked(api):
    response = api("producer").post(CAPTURE, json=probe_document("urn:epc:class:lgtin:0614141.077777.987"))
    assert response.status_code == 201 and response.json["created"] == 2


def test_cli_import_as_a_party_refuses_its_foreign_lots(runner, create_lot, create_party, tmp_path):
    theirs = create_lot()
    path = tmp_path / "doc.jsonld"
    path.write_text(json.dumps(probe_document(lgtin(theirs))))
    before = events_stored()
    refused = runner.invoke(args=["trace", "import-epcis", str(path), "--party", str(create_party().id)])
    assert refused.exit_code == 2 and capture.NOT_YOURS in refused.output
    assert events_stored() == before
    accepted = runner.invoke(args=["trace", "import-epcis", str(path), "--party", str(theirs.producer_id)])
    assert accepted.exit_code == 0 and "2 events stored" in accepted.output


def test_probe_2_lot_under_foreign_product_is_refused(api, create_product, create_brand):
    producer = api("producer")
    party_id = producer.user.party_id
    unbranded = create_product(brand=False)
    branded = create_product()  # a brand this producer is not authorised for
    body = {"code": "MJY-PROBE-2", "producer_id": party_id, "quantity": "10"}
    answers = [producer.post("/api/v1/trace/lots", json=body | {"product_id": pid})
               for pid in (unbranded.id, branded.id, branded.id + 10_000)]
    assert {a.status_code for a in answers} == {422}
    assert answers[0].json == answers[1].json == answers[2].json
    assert answers[0].json["errors"] == {"product_id": ["unknown product"]}
    assert db.session.scalar(select(func.count(Lot.id)).where(Lot.code == "MJY-PROBE-2")) == 0


def test_lot_of_an_authorised_brand_is_allowed(api, create_product):
    from datetime import timedelta

    from greenfin.dates import today

    producer = api("producer")
    product = create_product()
    services.authorise_brand(product.brand_id, producer.user.party_id, today() - timedelta(days=1))
    db.session.commit()
    response = producer.post("/api/v1/trace/lots", json={"code": "MJY-BRAND", "product_id": product.id,
                                                          "producer_id": producer.user.party_id, "quantity": "10"})
    assert response.status_code == 201, response.json


def test_staff_cannot_file_a_lot_under_another_owners_unbranded_product(api, create_product, create_party):
    product = create_product(brand=False)
    response = api("admin").post("/api/v1/trace/lots", json={"code": "MJY-X", "product_id": product.id,
                                                             "producer_id": create_party().id, "quantity": "1"})
    assert response.status_code == 422 and "producer_id" in response.json["errors"]


def test_lot_form_offers_and_accepts_only_usable_products(client, create_user, login, create_product):
    user = create_user("producer")
    login(user)
    mine, theirs = create_product(owner=user.party), create_product(brand=False)
    page = client.get("/trace/lots/new").get_data(as_text=True)
    assert mine.gtin in page and theirs.gtin not in page
    refused = client.post("/trace/lots/new", data={"product_id": theirs.id, "producer_id": user.party_id,
                                                  "code": "MJY-FORM-2", "quantity": "10", "unit": "KGM"})
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count(Lot.id)).where(Lot.code == "MJY-FORM-2")) == 0


def test_another_partys_parcel_is_not_revealed(api, create_parcel, create_product):
    producer = api("producer")
    product = create_product(owner=producer.user.party)
    foreign = create_parcel()
    body = {"code": "MJY-P", "product_id": product.id, "producer_id": producer.user.party_id, "quantity": "1"}
    answers = [producer.post("/api/v1/trace/lots", json=body | {"parcel_ids": [pid]})
               for pid in (foreign.id, foreign.id + 10_000)]
    assert [a.status_code for a in answers] == [422, 422]
    assert foreign.code not in json.dumps(answers[0].json)
    assert answers[0].json["errors"]["parcel_ids"][0].replace(str(foreign.id), "N") == \
        answers[1].json["errors"]["parcel_ids"][0].replace(str(foreign.id + 10_000), "N")


def test_transformation_from_a_foreign_lot_is_refused(api, create_user, create_lot):
    user = create_user("producer")
    mine, theirs = create_lot(producer=user.party), create_lot()
    response = api("producer", user=user).post("/api/v1/trace/transformations", json={
        "output_lot_id": mine.id, "inputs": [{"lot_id": theirs.id, "quantity": "5"}]})
    assert response.status_code == 404
    assert services.lot_events(theirs.id) == [] and services.lot_events(mine.id) == []


def test_events_with_zero_negative_or_endless_quantities_are_refused(api, create_user, create_lot):
    user = create_user("producer")
    lot = create_lot(producer=user.party)
    producer = api("producer", user=user)
    for quantity in ("0", "-5", "NaN", "Infinity"):
        response = producer.post(f"/api/v1/trace/lots/{lot.id}/events", json={"kind": "retail", "quantity": quantity})
        assert response.status_code == 422 and "quantity" in response.json["errors"], (quantity, response.json)
    transform = producer.post("/api/v1/trace/transformations", json={
        "output_lot_id": create_lot(producer=user.party).id, "inputs": [{"lot_id": lot.id, "quantity": "-1"}]})
    assert transform.status_code == 422 and "inputs" in transform.json["errors"]
    assert services.lot_events(lot.id) == []
