"""Concurrent requests through several gunicorn processes and rq workers: nothing lost, nothing duplicated."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from greenfin.core.models import Party
from greenfin.extensions import db
from greenfin.stack import http
from tests.conftest import make_uscc

pytestmark = [pytest.mark.multiprocess, pytest.mark.no_db_isolation]


def test_processes_answer_health(stack):
    status, body, headers = http("GET", stack["url"] + "/readyz")
    assert status == 200 and json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}
    assert headers.get("X-Request-ID")


def test_concurrent_party_registrations_lose_nothing(stack):
    token = stack["tokens"]["loan_officer"]
    codes = [make_uscc() for _ in range(40)]

    def register(code):
        return http("POST", stack["url"] + "/api/v1/parties", token,
                    {"kind": "firm", "name": f"并发公司{code[-6:]}", "uscc": code, "township_code": "danan"})[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, codes))
    assert statuses == [201] * len(codes)
    with stack["app"].app_context():
        stored = db.session.scalar(select(func.count(Party.id)).where(Party.uscc.in_(codes)))
        db.session.remove()
    assert stored == len(codes)


def test_racing_duplicates_store_exactly_one(stack):
    token = stack["tokens"]["loan_officer"]
    code = make_uscc()

    def register(_):
        return http("POST", stack["url"] + "/api/v1/parties", token,
                    {"kind": "firm", "name": "重复登记公司", "uscc": code, "township_code": "danan"})[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(16)))
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409, 422}
    with stack["app"].app_context():
        assert db.session.scalar(select(func.count(Party.id)).where(Party.uscc == code)) == 1
        db.session.remove()
