"""Domain errors raised by services, and the one JSON error shape of the API.

Every API error body is ``{"status": int, "code": str, "message": str,
"errors": {field: [messages]}}``. Pages get an HTML error page instead.
"""
from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from marshmallow import Schema, fields
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def N_(message: str, **params: Any) -> str:
    """Mark a message for the catalogue without translating it here.

    Services speak English (the API's language); pages translate these
    messages when they show them (``greenfin.core.forms.apply_errors``, ``translate``).
    A message with parameters (``N_("must be between %(lo)s and %(hi)s", lo=..., hi=...)``) is a
    ``Message``: the English text, which also remembers its msgid and parameters so that a page can
    word it in the reader's language. A parameter given as a ``(zh, en)`` pair (a product's names)
    is chosen per language.
    """
    if not params:
        return message
    return Message(message, params)


def error_text(exc: "DomainError") -> str:
    """What a page shows for a refused request: the summary and each field's messages, in the
    reader's language (the API keeps ``exc.message``, in English)."""
    details = [translate(m) for messages in exc.errors.values() for m in messages]
    head = translate(exc.summary)
    return f"{head}: {'; '.join(details)}" if details else head


class Message(str):
    """An English message with parameters that still knows how to be translated."""

    def __new__(cls, msgid: str, params: dict[str, Any]):
        english = {k: (v[1] if isinstance(v, tuple) else v) for k, v in params.items()}
        text = super().__new__(cls, msgid % english)
        text.msgid, text.params = msgid, params
        return text


def translate(message: str) -> str:
    """A service message in the reader's language (pages): plain messages through the catalogue,
    ``Message`` with its parameters."""
    from flask_babel import gettext, get_locale

    if isinstance(message, Message):
        zh = str(get_locale()).startswith("zh")
        params = {k: (v[0] if zh else v[1]) if isinstance(v, tuple) else v for k, v in message.params.items()}
        return gettext(message.msgid, **params)
    return gettext(message)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.summary = message  # the message without per-field details (ValidationFailed adds them)
        self.errors = errors or {}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input that breaks a business rule; ``errors`` names each bad field."""

    status = 422
    code = "validation_error"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, code: str | None = None):
        summary = message
        if errors:
            details = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())
            if message.endswith(f" ({details})"):
                summary = message[: -len(details) - 3]
            else:
                message = f"{message} ({details})"
        super().__init__(message, errors, code)
        self.summary = summary

    @classmethod
    def field(cls, field: str, message: str) -> "ValidationFailed":
        return cls("Invalid input", {field: [message]})


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Gone(DomainError):
    """What was there has been deleted on purpose (e.g. under a retention rule)."""

    status = 410
    code = "gone"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _flatten(errors: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"name": [...]}}); flatten it."""
    if not isinstance(errors, dict):
        return {"_schema": [str(errors)]}
    if set(errors) <= {"json", "query", "form", "files", "multipart", "headers", "path", "view_args", "cookies"}:
        merged: dict[str, Any] = {}
        for location_errors in errors.values():
            if isinstance(location_errors, dict):
                merged.update(location_errors)
        for location, location_errors in errors.items():
            if isinstance(location_errors, list):  # about a location as a whole ("Invalid JSON body.")
                merged.setdefault("_body" if location == "json" else f"_{location}", location_errors)
        errors = merged
    flat: dict[str, list[str]] = {}
    for field, messages in errors.items():
        if isinstance(messages, dict):
            for sub, sub_messages in _flatten(messages).items():
                flat[f"{field}.{sub}"] = sub_messages
        elif isinstance(messages, list):
            flat[str(field)] = [m if isinstance(m, str) else str(m) for m in messages]
        else:
            flat[str(field)] = [str(messages)]
    return flat


class ErrorSchema(Schema):
    """The one error shape of the API (documented for every operation)."""

    status = fields.Int(required=True, metadata={"description": "HTTP status code"})
    code = fields.Str(required=True, metadata={"description": "machine-readable error code"})
    message = fields.Str(required=True, metadata={"description": "what went wrong"})
    errors = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()),
                         metadata={"description": "messages per field"})


def error_body(status: int, code: str, message: str, errors: dict | None = None) -> dict:
    return {"status": status, "code": code, "message": message, "errors": errors or {}}


def json_error(status: int, code: str, message: str, errors: dict | None = None, headers: dict | None = None):
    response = jsonify(error_body(status, code, message, errors))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
    503: "service_unavailable",
}


_INT_LIMIT = 2**31 - 1  # what an integer column holds on every database we run on
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def _too_large(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = Decimal(value.strip())
    return isinstance(value, (int, float, Decimal)) and abs(value) > _INT_LIMIT


def _out_of_range_fields() -> dict[str, list[str]]:
    """Name the inputs a database found out of range: the numbers too large for a column."""
    found: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}" if path else str(index))
        elif _too_large(value):
            found[path or "_body"] = [N_("is out of range")]

    try:
        walk(request.get_json(silent=True) if request.is_json else None, "")
    except DomainError:
        pass
    walk({key: value for key, value in request.args.items(multi=True)}, "")
    walk(dict(request.view_args or {}), "")
    if not found:  # a computed value (a sum, an offset): name the request part it came from
        found["_body" if request.get_data(cache=True) else "_query"] = [N_("a value is out of range")]
    return found


NOT_FOUND_FOR_PARTIES = N_("Not found, or not yours to see")


def _party_scoped() -> bool:
    from greenfin.security import own_party_id

    try:
        return own_party_id() is not None
    except RuntimeError:  # outside a request
        return False


def register_error_handlers(app: Flask) -> None:
    from greenfin.uow import rollback

    def render(status: int, code: str, message: str, errors: dict | None = None, headers: dict | None = None):
        if status == 404 and _party_scoped():
            # A producer or buyer is told the same for a record that does not exist and for one that is
            # not theirs (require_party_access), so ids cannot be probed for what exists.
            message, errors = NOT_FOUND_FOR_PARTIES, None
        if wants_json():
            return json_error(status, code, message, errors, headers)
        return render_template("errors.html", status=status, message=translate(message), errors=errors or {}), \
            status, headers or {}

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        rollback()
        return render(exc.status, exc.code, exc.message, exc.errors)

    @app.errorhandler(MarshmallowValidationError)
    def handle_marshmallow(exc: MarshmallowValidationError):
        rollback()
        return render(422, "validation_error", "Invalid input", _flatten(exc.messages))

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        rollback()
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        errors = _flatten(data.get("messages", {})) if data.get("messages") else {}
        message = exc.description if status != 422 else "Invalid input"
        headers = dict(exc.get_headers()) if status in (405, 429) else {}
        headers.pop("Content-Type", None)
        if status == 429:  # a rate limit refused the request: say how long to wait (page and API alike)
            from flask_babel import force_locale

            from greenfin.ratelimit import throttled_message, wait_seconds

            wait = wait_seconds()
            if wait:
                headers["Retry-After"] = str(wait)
            if wants_json():
                with force_locale("en"):  # the API speaks English
                    message = throttled_message(wait)
            else:
                message = throttled_message(wait)
        return render(status, _HTTP_CODES.get(status, "error"), message, errors, headers)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def handle_out_of_range(exc: Exception):
        # A number the database cannot hold (an id of 10^30, a page far beyond the end).
        rollback()
        return render(422, "validation_error", "A value is out of range", _out_of_range_fields())

    @app.errorhandler(IntegrityError)
    def handle_integrity(exc: IntegrityError):
        # Two requests raced past a service's check; the database's constraint decided.
        rollback()
        return render(409, "conflict", "The change conflicts with an existing record; reload and try again")

    @app.errorhandler(DBAPIError)
    @app.errorhandler(OperationalError)
    def handle_db_down(exc: DBAPIError):
        if not isinstance(exc, OperationalError) and not exc.connection_invalidated:
            return handle_unexpected(exc)
        # A lost connection (database restart) is a clean 503, never a stack trace.
        log.warning("database unavailable: %s", exc.__class__.__name__)
        try:
            rollback()
        except Exception:  # the connection is gone; the pool discards it
            pass
        return render(503, "service_unavailable", "Database unavailable, try again shortly", headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        try:
            rollback()  # never leave the session in a failed transaction
        except Exception:
            pass
        if current_app.debug or (current_app.testing and current_app.config.get("PROPAGATE_UNEXPECTED", True)):
            raise exc
        log.exception("unhandled error")
        return render(500, "internal_error", "Internal error")
