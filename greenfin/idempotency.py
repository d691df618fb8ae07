"""Idempotency keys for API writes (the IETF ``Idempotency-Key`` header).

A client that may retry a write (a repayment after a timeout, a capture on a flaky line) sends a
key of its choosing. The answer is stored with the key, in the same transaction as the work
(``greenfin.uow.unit_of_work``), so:

- the same key, caller, method, path and body again: the stored answer, nothing done twice
  (``Idempotent-Replayed: true``);
- the same key with another body or on another operation: 409 ``idempotency_conflict``;
- two requests with one key at the same moment: one commits, the other's work is rolled back by
  the unique key and it gets the first one's answer.

Only answers below 400 are stored: a refused request may be corrected and sent again.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Optional

from flask import Response, current_app, g, request
from sqlalchemy import LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from greenfin.core.types import UTCDateTime
from greenfin.dates import utcnow
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db

HEADER = "Idempotency-Key"
MAX_KEY = 200
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class IdempotencyKey(db.Model):
    """One key's request fingerprint and stored answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(128))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _principal() -> str:
    user = g.get("user")
    return f"user:{user.id}" if user is not None else "anonymous"


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def keeps_own_key(method):
    """Mark an API method whose service keeps the key itself (ledger postings keep it on the
    ledger row, atomically with the posting, and answer a replay in their own words)."""
    method.keeps_own_idempotency_key = True
    return method


def request_key(view) -> Optional[str]:
    """The key of this API write, or None when the request carries none (or is not an API write,
    or its handler keeps its own key)."""
    if request.method not in WRITES or not request.path.startswith("/api/"):
        return None
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), None)
    if getattr(handler, "keeps_own_idempotency_key", False):
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed.field(HEADER, f"must be 1 to {MAX_KEY} printable characters")
    return key


def replay(key: str) -> Optional[Response]:
    """The stored answer for this key, or None when the key is new."""
    found = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.principal == _principal(),
                                                           IdempotencyKey.key == key))
    if found is None:
        return None
    if found.fingerprint != _fingerprint():
        raise Conflict(f"idempotency key {key} was used with different content",
                       {HEADER: ["was used with another body or operation"]}, code="idempotency_conflict")
    response = current_app.response_class(found.body, status=found.status, content_type=found.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember(key: str, response: Response) -> None:
    """Store the answer with the key, in the current unit of work (JSON answers only)."""
    if response.is_streamed or response.direct_passthrough:
        return
    db.session.add(IdempotencyKey(principal=_principal(), key=key, fingerprint=_fingerprint(),
                                  status=response.status_code, content_type=response.content_type or "",
                                  body=response.get_data()))
