"""Tenant isolation over the whole OpenAPI (issue 14): every state-changing operation, called by
producer A with producer B's ids.

Two producers A and B each get a party, a parcel, a branded product, two lots, labels, a published
red rating and a rating under public notice, and a loan application. The operations come from the
app's own OpenAPI document, so a new endpoint is covered (or fails here) without editing this file:

- an operation a producer may not call at all must answer 403 with B's ids, and change nothing;
- an operation a producer may call needs a recipe below (a valid request naming A's own records).
  Each place where the request names a record (a path parameter, a body field ``*_id``/``*_ids``
  at any depth, an EPC or Digital Link URI) is filled in turn with B's record and with one that
  does not exist: both must be refused (403/404/422) with the same status and the same body once
  the ids are blanked out, and nothing in the database may change (every table compared, the audit
  trail included). Finally A's own request must succeed, so the refusals are B's ids' doing.

An operation without a recipe, or a record-naming field of the schema that no recipe sends and the
allow-list does not explain, fails the test loudly.
"""
from __future__ import annotations

import copy
import json
import re
import secrets
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from credit import services as credit
from credit.models import Rating, RatingRun
from greenfin.core.types import utcnow
from greenfin.dates import today
from greenfin.extensions import db
from greenfin.security import AUTHENTICATED, PUBLIC, declared_access
from tests.lending.conftest import create_application, products  # noqa: F401 (fixtures)
from tests.traceability.conftest import (create_brand, create_lot, create_product, epcis_document,  # noqa: F401
                                         issue_labels, make_gtin, observe)
from traceability import digital_link as dl
from traceability.models import Label

STATE_CHANGING = ("post", "put", "patch", "delete")
REFUSED = (403, 404, 422)
GHOST_ID = 2_000_000_000  # no record has it; still fits an integer column (no "out of range" 422)

# Record-naming fields that legitimately name a record the caller does not own, with the reason.
NAMES_NO_RECORD_OF_ANOTHER = {
    # The receiving trading partner of a shipment: any party may be shipped to, and the event is
    # written on the caller's own lot only (its destination is not the partner's record).
    ("POST", "/api/v1/trace/lots/{lot_id}/events", "ship_to_id"),
}
# Records every producer may list (brands are a public registry, ``GET /api/v1/trace/brands``):
# another's must be refused, but its existence is no secret, so the answer may differ.
PUBLIC_RECORDS = {
    ("POST", "/api/v1/trace/products", "brand_id"),
}


# ---------------------------------------------------------------- the two tenants


@pytest.fixture
def tenants(create_party, create_user, create_parcel, create_product, create_lot, issue_labels,
            create_application):
    regulator = create_user("regulator")
    made = {}
    for name in "AB":
        party = create_party(name=f"隔离测试合作社{name}{secrets.token_hex(2)}")
        parcel = create_parcel(holder_id=party.id)
        product = create_product(owner=party)
        lot = create_lot(product=product, parcels=[parcel])
        lot2 = create_lot(product=product, parcels=[parcel])
        issue_labels(lot, count=2)
        serial = db.session.scalar(select(Label.serial).where(Label.lot_id == lot.id).limit(1))
        credit.submit_posting(party.id, "FIRM_VETO_DATA_FRAUD", idempotency_key=secrets.token_hex(8), review=False,
                              effective_date=date(2026, 5, 1))
        market_ids = _market(create_lot(product=product, parcels=[parcel]).id)  # a lot of its own: shipping
        # it would precede the steps other recipes record on the first two
        made[name] = SimpleNamespace(
            party_id=party.id, parcel_id=parcel.id, product_id=product.id, brand_id=product.brand_id,
            lot_id=lot.id, lot2_id=lot2.id, gtin=product.gtin, lot_code=lot.code, lot2_code=lot2.code,
            serial=serial, application_id=create_application(party=party).id,
            user=create_user("producer", party=party), **market_ids)
    red = _rate("2026-Q2")
    notice = _rate("2026-Q3")
    for t in made.values():
        credit.approve_rating(red[t.party_id].id, actor=regulator, now=utcnow() - timedelta(days=20))
        credit.publish_rating(red[t.party_id].id, actor=regulator)
        credit.approve_rating(notice[t.party_id].id, actor=regulator)
        t.rating_red_id, t.rating_notice_id = red[t.party_id].id, notice[t.party_id].id
    db.session.commit()
    b = made["B"]
    ghost = SimpleNamespace(**{key: (GHOST_ID + n if key.endswith("_id") else value)
                               for n, (key, value) in enumerate(vars(b).items())})
    ghost.lot_code, ghost.lot2_code, ghost.serial = "NOSUCHLOT1", "NOSUCHLOT2", "NOSUCHSERIAL"
    return made["A"], b, ghost


def _market(lot_id: int) -> dict:
    """The market records of a tenant's lot: an offer to withdraw, and orders of a buyer to confirm,
    ship and cancel (placed, confirmed, placed)."""
    from greenfin.core import services as core
    from greenfin.market import services as market
    from tests.conftest import make_uscc

    window = {"delivery_from": today(), "delivery_until": today() + timedelta(days=10)}
    offer = market.make_offer({"lot_id": lot_id, "quantity": 300, "unit_price": "9.5", **window})
    spare = market.make_offer({"lot_id": lot_id, "quantity": 100, "unit_price": "9.5", **window})
    buyer = core.create_party({"kind": "organisation", "name": f"隔离测试食堂{secrets.token_hex(2)}",
                               "uscc": make_uscc("12"), "township_code": "danan"})
    market.register_buyer({"party_id": buyer.id, "kind": "canteen", "public": True})
    orders = [market.place_order({"offer_id": offer.id, "quantity": 10}, scope=buyer.id) for _ in range(3)]
    market.confirm_order(orders[1])
    return {"offer_withdraw_id": spare.id, "order_confirm_id": orders[0].id, "order_ship_id": orders[1].id,
            "order_cancel_id": orders[2].id}


def _rate(period: str) -> dict:
    period_row = credit.get_or_create_period(period)
    run = RatingRun(period_id=period_row.id, created_by="test")
    db.session.add(run)
    db.session.flush()
    credit.rate_all(run)
    return {r.party_id: r for r in db.session.scalars(select(Rating).where(Rating.period_id == period_row.id))}


# ---------------------------------------------------------------- recipes: a valid request of A's


def _capture(t):
    transform = {"type": "TransformationEvent", "eventTime": "2026-11-02T09:00:00+08:00",
                 "eventTimeZoneOffset": "+08:00", "bizStep": "commissioning",
                 "inputQuantityList": [{"epcClass": dl.lgtin(t.gtin, t.lot_code), "quantity": 5, "uom": "KGM"}],
                 "outputQuantityList": [{"epcClass": dl.lgtin(t.gtin, t.lot2_code), "quantity": 5, "uom": "KGM"}]}
    return {"body": epcis_document(observe(dl.lgtin(t.gtin, t.lot_code), epcList=[dl.sgtin(t.gtin, t.serial)]),
                                   transform)}


def recipes(code: str, gtin: str) -> dict:
    """(method, OpenAPI path) -> function(tenant) -> {"path": {...}, "body": {...}}: a request that
    succeeds for the tenant's own producer. ``code``/``gtin`` are fresh values for new records."""
    harvest = (today() - timedelta(days=5)).isoformat()
    return {
        ("POST", "/api/v1/parcels"): lambda t: {"body": {
            "code": code, "holder_id": t.party_id, "township_code": "danan", "village": "古村村", "area_ha": "2.5",
            "land_cover": "orchard", "lat": "28.49", "lon": "118.29", "cert_type": "land_contract",
            "cert_no": "赣(2021)广丰区不动产权第0002号"}},
        ("POST", "/api/v1/credit/ratings/{rating_id}/objections"): lambda t: {
            "path": {"rating_id": t.rating_notice_id}, "body": {"text": "评分漏记了我社的有机认证"}},
        ("POST", "/api/v1/credit/repairs"): lambda t: {
            "body": {"rating_id": t.rating_red_id, "statement": "已整改并通过复查"}},
        ("POST", "/api/v1/trace/products"): lambda t: {"body": {
            "gtin": gtin, "name": "马家柚礼盒", "owner_id": t.party_id, "brand_id": t.brand_id}},
        ("POST", "/api/v1/trace/lots"): lambda t: {"body": {
            "code": code, "product_id": t.product_id, "producer_id": t.party_id, "harvest_date": harvest,
            "quantity": "300", "unit": "KGM", "parcel_ids": [t.parcel_id]}},
        ("POST", "/api/v1/trace/lots/{lot_id}/events"): lambda t: {
            "path": {"lot_id": t.lot_id}, "body": {"kind": "grading", "grade": "特级", "quantity": "50"}},
        ("POST", "/api/v1/trace/transformations"): lambda t: {"body": {
            "output_lot_id": t.lot2_id, "inputs": [{"lot_id": t.lot_id, "quantity": "20"}]}},
        ("POST", "/api/v1/trace/lots/{lot_id}/label-batches"): lambda t: {
            "path": {"lot_id": t.lot_id}, "body": {"count": 2, "layout": "a4-3x8"}},
        ("POST", "/api/v1/trace/epcis/capture"): _capture,
        ("POST", "/api/v1/market/offers"): lambda t: {"body": {
            "lot_id": t.lot2_id, "quantity": "10", "unit_price": "8.80", "delivery_from": today().isoformat(),
            "delivery_until": (today() + timedelta(days=5)).isoformat()}},
        ("POST", "/api/v1/market/offers/{offer_id}/withdraw"): lambda t: {
            "path": {"offer_id": t.offer_withdraw_id}, "body": {"reason": "价格调整"}},
        ("POST", "/api/v1/market/orders/{order_id}/confirm"): lambda t: {"path": {"order_id": t.order_confirm_id}},
        ("POST", "/api/v1/market/orders/{order_id}/ship"): lambda t: {"path": {"order_id": t.order_ship_id}},
        ("POST", "/api/v1/market/orders/{order_id}/cancel"): lambda t: {
            "path": {"order_id": t.order_cancel_id}, "body": {"reason": "计划变更"}},
    }


# ---------------------------------------------------------------- reading the OpenAPI


def state_changing_operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    adapter = app.url_map.bind("")
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in STATE_CHANGING:
                continue
            endpoint, _args = adapter.match(re.sub(r"\{[^}]+\}", "1", path), method=method.upper())
            roles = declared_access(app, endpoint, method.upper())
            producer_may = bool(roles & {"producer", AUTHENTICATED, PUBLIC})
            yield method.upper(), path, operation, producer_may, spec


def schema_fields(operation, spec) -> set[str]:
    """The writable top-level fields of an operation's JSON body."""
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return {name for name, prop in schema.get("properties", {}).items() if not prop.get("readOnly")}


def names_record(field: str) -> bool:
    return field.endswith("_id") or field.endswith("_ids")


_URI = re.compile(r"^(urn:epc:|https?://[^/]+/01/)")


def slots(body, where=()):
    """Every place in a body that names a record: ``*_id``/``*_ids`` keys, EPC and Digital Link URIs."""
    if isinstance(body, dict):
        for key, value in body.items():
            if names_record(str(key)):
                yield where + (key,)
            else:
                yield from slots(value, where + (key,))
    elif isinstance(body, list):
        for i, value in enumerate(body):
            yield from slots(value, where + (i,))
    elif isinstance(body, str) and _URI.match(body):
        yield where


def _get(body, where):
    for key in where:
        body = body[key]
    return body


def _set(body, where, value):
    body = copy.deepcopy(body)
    target = body
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return body


def url_for_path(path: str, values: dict) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(values[m.group(1)]), path)


def database_state() -> dict:
    """Every row of every table (the audit trail, jobs and ledgers included)."""
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted(json.dumps(list(row), default=str) for row in rows)
    return state


def _changes(before: dict, after: dict) -> list[str]:
    return [f"{name}: {len(before[name])} -> {len(after[name])} rows" if len(before[name]) != len(after[name])
            else f"{name}: rows changed" for name in before if before[name] != after[name]]


def blanked(response, *ids) -> tuple:
    """Status, code, message and field errors with the given ids (and lot codes, serials) blanked out."""
    body = response.get_json(silent=True) or {}
    text = json.dumps([body.get("message"), body.get("errors")], sort_keys=True, ensure_ascii=False)
    for value in sorted({str(v) for v in ids if v is not None}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "<id>", text)
    return response.status_code, body.get("code"), text


# ---------------------------------------------------------------- the tests


def test_every_operation_a_producer_may_call_has_a_recipe(app):
    """Fails loudly on a new producer operation, or a new record-naming field, that nobody thought about."""
    known = recipes("X", "0")
    problems = []
    for method, path, operation, producer_may, spec in state_changing_operations(app):
        if not producer_may:
            continue
        if (method, path) not in known:
            problems.append(f"{method} {path}: no recipe in tests/test_tenant_isolation.py")
            continue
        sample = SimpleNamespace(**{k: 1 for k in ("party_id", "parcel_id", "product_id", "brand_id", "lot_id",
                                                   "lot2_id", "rating_red_id", "rating_notice_id",
                                                   "offer_withdraw_id", "order_confirm_id", "order_ship_id",
                                                   "order_cancel_id")},
                                 gtin=make_gtin(), lot_code="L1", lot2_code="L2", serial="S1")
        sent = set(known[(method, path)](sample).get("body", {}))
        for field in sorted(f for f in schema_fields(operation, spec) if names_record(f)):
            if field not in sent and (method, path, field) not in NAMES_NO_RECORD_OF_ANOTHER:
                problems.append(f"{method} {path}: field {field} names a record but is never tried")
    assert not problems, "\n".join(problems)


def test_staff_operations_answer_403_to_a_producer_with_another_tenants_ids(app, api, tenants):
    _a, b, _ghost = tenants
    caller = api(user=_a.user)
    ids = {"rating_id": b.rating_red_id, "party_id": b.party_id, "parcel_id": b.parcel_id, "lot_id": b.lot_id,
           "application_id": b.application_id, "product_id": b.product_id, "brand_id": b.brand_id}
    checked = 0
    for method, path, _operation, producer_may, _spec in state_changing_operations(app):
        if producer_may:
            continue
        url = url_for_path(path, {**{name: 1 for name in re.findall(r"\{([^}]+)\}", path)},
                                  **{k: v for k, v in ids.items() if "{" + k + "}" in path}})
        before = database_state()
        response = caller._call(method.lower(), url, json={"party_id": b.party_id, "lot_id": b.lot_id})
        assert response.status_code == 403, (method, path, response.status_code, response.get_json())
        assert database_state() == before, (method, path)
        checked += 1
    assert checked > 40
    print(f"tenant isolation: {checked} staff-only operations refused to a producer")


def test_probe_1_2_every_producer_write_refuses_another_tenants_records(app, api, tenants):
    """Issue 14, items 1 and 2, for every operation at once: B's record answers as a missing one."""
    a, b, ghost = tenants
    caller = api(user=a.user)
    failures, tried, operations = [], 0, 0
    for method, path, _operation, producer_may, _spec in state_changing_operations(app):
        if not producer_may:
            continue
        operations += 1
        recipe = recipes(f"ISO{secrets.token_hex(3).upper()}", make_gtin())[(method, path)]
        mine, theirs, missing = recipe(a), recipe(b), recipe(ghost)
        places = [("path", name) for name in mine.get("path", {})] + \
                 [("body",) + where for where in slots(mine.get("body"))]
        assert places, f"{method} {path}: its recipe names no record"
        for place in places:
            if place[0] == "body" and (method, path, place[-1]) in NAMES_NO_RECORD_OF_ANOTHER:
                continue
            answers = []
            for other in (theirs, missing):
                request = {"path": dict(mine.get("path", {})), "body": mine.get("body")}
                if place[0] == "path":
                    request["path"][place[1]] = other["path"][place[1]]
                else:
                    request["body"] = _set(mine["body"], place[1:], _get(other["body"], place[1:]))
                before = database_state()
                response = caller._call(method.lower(), url_for_path(path, request["path"]), json=request["body"])
                tried += 1
                where = f"{method} {path} [{'.'.join(map(str, place))}]"
                if response.status_code not in REFUSED:
                    failures.append(f"{where}: {response.status_code} {response.get_json()}")
                changes = _changes(before, database_state())
                if changes:
                    failures.append(f"{where}: refused but changed {changes}")
                answers.append(response)
            ids = [v for t in (b, ghost) for k, v in vars(t).items() if k != "user"]
            if (method, path, place[-1]) not in PUBLIC_RECORDS and blanked(answers[0], *ids) != blanked(answers[1], *ids):
                failures.append(f"{method} {path} [{'.'.join(map(str, place))}]: another's record answers "
                                f"{blanked(answers[0], *ids)}, a missing one {blanked(answers[1], *ids)}")
        own = caller._call(method.lower(), url_for_path(path, mine.get("path", {})), json=mine.get("body"))
        if own.status_code not in (200, 201, 202):
            failures.append(f"{method} {path}: A's own request failed: {own.status_code} {own.get_json()}")
    print(f"tenant isolation: {operations} producer operations, {tried} requests with another tenant's "
          "or a missing record")
    assert operations >= 9 and tried > 20
    assert not failures, "\n".join(failures)
