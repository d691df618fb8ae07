"""A repayment POST retried with the same Idempotency-Key pays once (greenfin/idempotency.py)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from greenfin.extensions import db
from greenfin.lending import services
from greenfin.lending.models import Repayment


def _loan(create_application, monkeypatch):
    monkeypatch.setattr(services, "APPROVE_AT", 0)
    application = create_application()
    services.decide_application(application)
    loan = services.book_loan(application, date(2026, 1, 10))
    db.session.commit()
    return loan


def _repayments(loan_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Repayment).where(Repayment.loan_id == loan_id))


def test_repayment_retried_with_same_key_pays_once(api, create_application, champion, seams, monkeypatch):
    loan = _loan(create_application, monkeypatch)
    officer = api("loan_officer")
    body = {"amount": "1000.00", "received_on": "2026-02-10", "reference": "BANK-7781"}
    headers = {"Idempotency-Key": "repay-7781"}
    first = officer.post(f"/api/v1/lending/loans/{loan.id}/repayments", json=body, headers=headers)
    assert first.status_code == 201, first.json
    again = officer.post(f"/api/v1/lending/loans/{loan.id}/repayments", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert _repayments(loan.id) == 1

    other = officer.post(f"/api/v1/lending/loans/{loan.id}/repayments", json=body | {"amount": "2000.00"},
                         headers=headers)
    assert other.status_code == 409 and other.json["code"] == "idempotency_conflict"
    assert "Idempotency-Key" in other.json["errors"]
    assert _repayments(loan.id) == 1

    without_key = officer.post(f"/api/v1/lending/loans/{loan.id}/repayments", json=body)
    assert without_key.status_code == 201 and _repayments(loan.id) == 2


def test_refused_repayment_keeps_key_free(api, create_application, champion, seams, monkeypatch):
    loan = _loan(create_application, monkeypatch)
    officer = api("loan_officer")
    headers = {"Idempotency-Key": "repay-too-much"}
    url = f"/api/v1/lending/loans/{loan.id}/repayments"
    refused = officer.post(url, json={"amount": "99999999", "received_on": "2026-02-10"}, headers=headers)
    assert refused.status_code == 422 and _repayments(loan.id) == 0
    corrected = officer.post(url, json={"amount": "500.00", "received_on": "2026-02-10"}, headers=headers)
    assert corrected.status_code == 201 and _repayments(loan.id) == 1


def test_key_is_per_caller(api, create_application, champion, seams, monkeypatch):
    loan = _loan(create_application, monkeypatch)
    body = {"amount": "300.00", "received_on": "2026-02-10"}
    url = f"/api/v1/lending/loans/{loan.id}/repayments"
    assert api("loan_officer").post(url, json=body, headers={"Idempotency-Key": "k1"}).status_code == 201
    assert api("loan_officer").post(url, json=body, headers={"Idempotency-Key": "k1"}).status_code == 201
    assert _repayments(loan.id) == 2


def test_malformed_key_is_refused(api, create_application, champion, seams, monkeypatch):
    loan = _loan(create_application, monkeypatch)
    response = api("loan_officer").post(f"/api/v1/lending/loans/{loan.id}/repayments",
                                        json={"amount": "300.00", "received_on": "2026-02-10"},
                                        headers={"Idempotency-Key": "x" * 201})
    assert response.status_code == 422 and "Idempotency-Key" in response.json["errors"]
    assert _repayments(loan.id) == 0
