"""Issue 14, probe items 5 (generic part) and 12: malformed bodies, missing bodies, named fields,
no parcel-code oracle, no caching of personal data."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from greenfin.core.models import Parcel, Party
from greenfin.extensions import db
from greenfin.json_input import MAX_DEPTH, nesting_depth

PARTY = {"kind": "firm", "name": "深度测试公司", "township_code": "danan", "sector": "pomelo"}


def _parties() -> int:
    return db.session.scalar(select(func.count(Party.id)))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100, 100_000])
def test_probe_5_deeply_nested_json_is_refused(api, depth):
    admin, before = api("admin"), _parties()
    response = admin.post("/api/v1/parties", data="[" * depth + "]" * depth, content_type="application/json")
    assert response.status_code == 400
    assert response.json["errors"] == {"_body": [f"The body is nested deeper than {MAX_DEPTH} levels"]}
    assert _parties() == before


def test_probe_5_deep_epcis_capture_is_refused(api):
    response = api("admin").post("/api/v1/trace/epcis/capture", data='{"a":' * 5000 + "1" + "}" * 5000,
                                 content_type="application/json")
    assert response.status_code == 400 and "_body" in response.json["errors"]


def test_probe_5_lone_surrogate_is_refused_naming_the_field(api):
    admin, before = api("admin"), _parties()
    body = json.dumps(PARTY, ensure_ascii=False).replace("深度测试公司", "\\ud800")
    response = admin.post("/api/v1/parties", data=body, content_type="application/json")
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["name"]
    assert _parties() == before


def test_probe_5_invalid_utf8_is_refused(api):
    response = api("admin").post("/api/v1/parties", data=b'{"name": "\xff\xfe"}', content_type="application/json")
    assert response.status_code == 400
    assert "UTF-8" in response.json["errors"]["_body"][0]


def test_parse_accepts_valid_surrogate_pairs_and_nesting_at_the_limit(api):
    admin = api("admin")
    body = dict(PARTY, name="\\ud840\\udc0b公司", address={"x": 1})  # a CJK Extension B character
    response = admin.post("/api/v1/parties", data=json.dumps(body).replace("\\\\", "\\"),
                          content_type="application/json")
    assert response.status_code == 422 and "_body" not in response.json["errors"]  # address is an unknown field
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert admin.post("/api/v1/parties", data=nested, content_type="application/json").status_code == 422


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(alphabet='[]{}"\\ab'),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children,
                                                                                       max_size=3)))
def test_nesting_depth_matches_the_parsed_structure(value):
    def depth(v):
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0

    assert nesting_depth(json.dumps(value)) == depth(value)


@pytest.mark.parametrize("body", [None, b"", b"   "])
def test_probe_12_patch_and_post_without_body_are_refused(api, create_party, body):
    admin, party = api("admin"), create_party()
    kwargs = {} if body is None else {"data": body, "content_type": "application/json"}
    patched = admin.patch(f"/api/v1/parties/{party.id}", **kwargs)
    assert patched.status_code == 422
    assert patched.json["errors"] == {"_body": ["a JSON request body is required"]}
    posted = admin.post("/api/v1/parties", **kwargs)
    assert posted.status_code == 422 and "_body" in posted.json["errors"]


def test_probe_12_patch_with_nothing_to_change_is_refused(api, create_party):
    party = create_party()
    response = api("admin").patch(f"/api/v1/parties/{party.id}", json={})
    assert response.status_code == 422 and response.json["errors"] == {"_body": ["give at least one field to change"]}


def test_probe_12_non_json_body_is_refused(api, create_party):
    party = create_party()
    response = api("admin").patch(f"/api/v1/parties/{party.id}", data="name=x", content_type="text/plain")
    assert response.status_code == 415 and "_body" in response.json["errors"]


def test_probe_12_out_of_range_names_the_field(api, create_party):
    admin = api("admin")
    response = admin.get("/api/v1/parcels?holder_id=99999999999999999999")
    if response.status_code == 422:  # refused by the schema or by the database: either way a named field
        assert "holder_id" in response.json["errors"]
    from greenfin.errors import _out_of_range_fields

    with admin.client.application.test_request_context("/x?page=1", method="POST",
                                                       json={"lots": [{"quantity": 10**30}], "n": 3}):
        assert _out_of_range_fields() == {"lots.0.quantity": ["is out of range"]}


def test_probe_12_parcel_code_of_another_holder_reveals_nothing(api, create_user, create_parcel):
    producer = create_user("producer")
    other = create_parcel(code="GF-SECRET-1")
    client = api(user=producer)
    body = {"code": "GF-SECRET-1", "holder_id": producer.party_id, "township_code": "danan", "village": "古村村",
            "area_ha": "2.5", "land_cover": "orchard", "lat": "28.49", "lon": "118.29",
            "cert_type": "land_contract", "cert_no": "赣(2020)广丰区不动产权第0002号"}
    created = client.post("/api/v1/parcels", json=body)
    assert created.status_code == 201, created.json  # the same answer as for a free code
    again = client.post("/api/v1/parcels", json=body)
    assert again.status_code == 422
    assert again.json["errors"]["code"] == ["this holder already has a parcel with this code"]
    codes = db.session.scalars(select(Parcel.holder_id).where(Parcel.code == "GF-SECRET-1")).all()
    assert sorted(codes) == sorted([other.holder_id, producer.party_id])


def test_probe_12_personal_exports_and_token_page_are_not_cached(app, api, create_user, create_party, login):
    admin = create_user("admin")
    party = create_party()
    client = login(admin)
    assert client.get("/admin/tokens").headers["Cache-Control"] == "no-store"
    export = client.get(f"/parties/{party.id}/export.json")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    assert api("admin").get(f"/api/v1/parties/{party.id}/export").headers["Cache-Control"] == "no-store"
    assert "no-store" not in (app.test_client().get("/login").headers.get("Cache-Control") or "")
