"""A database connection lost mid-request: a clean 503 or, after the response is built, the response itself."""
from __future__ import annotations

import contextvars

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from greenfin.extensions import db


def _lost(*_args, **_kwargs):
    raise OperationalError("ROLLBACK", {}, Exception("terminating connection due to administrator command"))


def test_lost_connection_in_a_view_answers_503_with_retry_after(api, monkeypatch):
    caller = api("admin")
    monkeypatch.setattr(db.session, "scalars", _lost)
    response = caller.get("/api/v1/parties")
    assert response.status_code == 503
    assert response.json["code"] == "service_unavailable"
    assert response.headers["Retry-After"]


def test_lost_connection_while_closing_the_session_keeps_the_response(api, create_party, monkeypatch):
    """The ROLLBACK of the teardown fails (the database went away after the view returned):
    the client still gets the answer the view built, and the next request gets a fresh session."""
    caller = api("admin")
    party = create_party()
    monkeypatch.setattr(Session, "close", _lost)
    # In a fresh context the request pushes (and tears down) its own app context, as under gunicorn.
    response = contextvars.Context().run(caller.get, f"/api/v1/parties/{party.id}")
    assert response.status_code == 200 and response.json["name"] == party.name
    monkeypatch.undo()
    assert caller.get(f"/api/v1/parties/{party.id}").status_code == 200
