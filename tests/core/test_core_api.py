"""The core REST API: access rules, error shape, pagination, producer scoping."""
from sqlalchemy import func, select

from greenfin.core.models import Parcel, Party
from greenfin.extensions import db
from tests.conftest import make_resident_id, make_uscc


def assert_error_shape(body, status):
    assert set(body) == {"status", "code", "message", "errors"}
    assert body["status"] == status


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/parties" in response.json["paths"]


def test_api_without_token_is_401(client):
    response = client.get("/api/v1/parties")
    assert response.status_code == 401
    assert_error_shape(response.json, 401)


def test_api_ignores_session_cookie(client, create_user, login):
    user = create_user("admin")
    login(user)
    assert client.get("/api/v1/parties").status_code == 401


def test_revoked_token_is_refused(api):
    admin = api("admin")
    token_id = admin.get("/api/v1/tokens").json[0]["id"]
    assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
    assert admin.get("/api/v1/parties").status_code == 401


def test_create_party_validates_fields(api):
    response = api("loan_officer").post("/api/v1/parties", json={
        "kind": "firm", "name": "坏代码公司", "uscc": "913611030000000000", "township_code": "nowhere"})
    assert response.status_code == 422
    assert_error_shape(response.json, 422)
    assert {"uscc", "township_code"} <= set(response.json["errors"])
    assert db.session.scalar(select(func.count(Party.id))) == 0


def test_create_parcel_names_every_bad_field_in_one_answer(api, create_party):
    holder = create_party()
    response = api("admin").post("/api/v1/parcels", json={
        "code": "P-BAD", "holder_id": holder.id, "township_code": "nowhere", "area_ha": "-1",
        "land_cover": "moon", "lat": "10.0", "lon": "118.2", "cert_type": "napkin", "cert_no": "  "})
    assert response.status_code == 422
    assert_error_shape(response.json, 422)
    errors = response.json["errors"]
    assert set(errors) == {"township_code", "area_ha", "land_cover", "lat", "cert_type", "cert_no"}
    assert errors["township_code"] == ["unknown township of Guangfeng district"]
    assert errors["area_ha"] == ["must be above 0 and at most 100,000 ha"]
    assert db.session.scalar(select(func.count(Parcel.id))) == 0


def test_create_party_names_every_bad_field_in_one_answer(api):
    response = api("admin").post("/api/v1/parties", json={
        "kind": "individual", "name": " ", "uscc": make_uscc(), "resident_id": "36110319900101123",
        "township_code": "nowhere"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"name", "uscc", "resident_id", "township_code"}
    assert db.session.scalar(select(func.count(Party.id))) == 0


def test_patch_parcel_checks_fields_in_the_schema(api, create_parcel):
    parcel = create_parcel()
    response = api("admin").patch(f"/api/v1/parcels/{parcel.id}", json={"area_ha": "0", "township_code": "x"})
    assert response.status_code == 422 and set(response.json["errors"]) == {"area_ha", "township_code"}
    assert api("admin").patch(f"/api/v1/parcels/{parcel.id}", json={"area_ha": "7.25"}).status_code == 200


def test_services_still_check_fields_for_other_callers(create_party):
    import pytest

    from greenfin.core import services
    from greenfin.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        services.create_parcel({"code": "P-SVC", "holder_id": create_party().id, "township_code": "nowhere",
                                "area_ha": "-1", "land_cover": "orchard", "lat": "28.4", "lon": "118.2",
                                "cert_type": "land_contract", "cert_no": "1"})
    assert {"township_code", "area_ha"} <= set(caught.value.errors)


def test_create_party_missing_field_is_named(api):
    response = api("admin").post("/api/v1/parties", json={"kind": "firm"})
    assert response.status_code == 422
    assert {"name", "township_code"} <= set(response.json["errors"])


def test_create_individual_returns_masked_id_only(api):
    number = make_resident_id()
    response = api("admin").post("/api/v1/parties", json={
        "kind": "individual", "name": "吴玉兰", "resident_id": number, "township_code": "danan"})
    assert response.status_code == 201, response.json
    assert number not in response.get_data(as_text=True)
    assert response.json["id_masked"].endswith(number[-4:])


def test_producer_cannot_create_party(api):
    response = api("producer").post("/api/v1/parties", json={
        "kind": "firm", "name": "X", "uscc": make_uscc(), "township_code": "danan"})
    assert response.status_code == 403
    assert_error_shape(response.json, 403)


def test_producer_sees_only_own_party(api, create_party):
    other = create_party()
    producer = api("producer")
    listing = producer.get("/api/v1/parties")
    assert [p["id"] for p in listing.json] == [producer.user.party_id]
    assert producer.get(f"/api/v1/parties/{other.id}").status_code == 404


def test_producer_parcels_scoped(api, create_parcel):
    producer = api("producer")
    mine = create_parcel(holder_id=producer.user.party_id)
    theirs = create_parcel()
    ids = [p["id"] for p in producer.get("/api/v1/parcels").json]
    assert ids == [mine.id]
    assert producer.get(f"/api/v1/parcels/{theirs.id}").status_code == 404
    payload = {"code": "P-X1", "holder_id": theirs.holder_id, "township_code": "danan", "area_ha": "1.0",
               "land_cover": "orchard", "lat": "28.4", "lon": "118.2", "cert_type": "land_contract", "cert_no": "1"}
    assert producer.post("/api/v1/parcels", json=payload).status_code == 404


def test_parties_are_paginated(api, create_party):
    for _ in range(5):
        create_party()
    response = api("regulator").get("/api/v1/parties?page=2&page_size=2")
    assert response.status_code == 200
    assert len(response.json) == 2
    assert '"total": 5' in response.headers["X-Pagination"]


def test_users_endpoints_admin_only(api):
    assert api("regulator").get("/api/v1/users").status_code == 403
    response = api("admin").post("/api/v1/users", json={"username": "newofficer", "role": "loan_officer",
                                                         "password": "long-enough-password"})
    assert response.status_code == 201
    assert "password" not in response.json and "password_hash" not in response.json


def test_audit_events_filter(api, create_party):
    party = create_party()
    response = api("regulator").get(f"/api/v1/audit-events?entity_type=party&entity_id={party.id}")
    assert response.status_code == 200
    assert [e["action"] for e in response.json] == ["party.create"]
    assert api("loan_officer").get("/api/v1/audit-events").status_code == 403


def test_bad_query_argument_is_422(api):
    response = api("admin").get("/api/v1/parties?kind=alien")
    assert response.status_code == 422
    assert "kind" in response.json["errors"]


def test_unknown_party_is_404_json(api):
    response = api("admin").get("/api/v1/parties/999999")
    assert response.status_code == 404
    assert_error_shape(response.json, 404)


def test_token_issue_shows_secret_once(api, create_user):
    target = create_user("loan_officer")
    admin = api("admin")
    response = admin.post("/api/v1/tokens", json={"user_id": target.id, "name": "bank-system"})
    assert response.status_code == 201 and response.json["token"].startswith("gf_")
    listing = admin.get("/api/v1/tokens").json
    assert all("token" not in t or t["token"] is None for t in listing)


def test_party_export_holds_own_data_only(api, create_parcel, create_party):
    producer = api("producer")
    create_parcel(holder_id=producer.user.party_id, code="EXP-1")
    other = create_party()
    response = producer.get(f"/api/v1/parties/{producer.user.party_id}/export")
    assert response.status_code == 200
    body = response.json
    assert body["party"]["id"] == producer.user.party_id
    assert [p["code"] for p in body["parcels"]] == ["EXP-1"]
    assert any(e["action"] == "party.create" for e in body["audit_events"])
    assert producer.get(f"/api/v1/parties/{other.id}/export").status_code == 404
    assert api("loan_officer").get(f"/api/v1/parties/{other.id}/export").status_code == 403


def test_party_export_of_individual_is_masked(api, create_party):
    from tests.conftest import make_resident_id

    number = make_resident_id()
    person = create_party(kind="individual", resident_id=number)
    text = api("regulator").get(f"/api/v1/parties/{person.id}/export").get_data(as_text=True)
    assert number not in text and number[-4:] in text
