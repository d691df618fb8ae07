"""Request bodies as JSON, read defensively: valid UTF-8, bounded nesting, no lone surrogates.

Every JSON body the API reads goes through ``load_request_json`` (the webargs parser of
``greenfin.api_utils`` and ``request.get_json()``, through ``app.json``, alike), so a body that is too deep, badly
encoded or not JSON is refused with the API's one error shape instead of a RecursionError or
a UnicodeEncodeError deep in a service.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from greenfin.errors import N_, DomainError, ValidationFailed

MAX_DEPTH = 32
BODY = "_body"  # the field name of errors about the request body as a whole

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadBody(DomainError):
    """The body as a whole cannot be read (400); ``errors`` names it as ``_body``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str):
        super().__init__(message, {BODY: [message]})


class NotJson(BadBody):
    status = 415
    code = "unsupported_media_type"


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _lone_surrogate_path(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _SURROGATE.search(key):
            return path or BODY
        found = _lone_surrogate_path(item, here)
        if found is not None:
            return found
    return None


def load_request_json(data: bytes | str) -> Any:
    """Parse a request body; raise ``BadBody`` (400) or ``ValidationFailed`` (422, naming the field)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadBody(f"The body is not valid UTF-8 (byte {exc.start})") from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
    if nesting_depth(text) > MAX_DEPTH:
        raise BadBody(f"The body is nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadBody(f"Invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:  # cannot happen under MAX_DEPTH; kept as a last guard
        raise BadBody(f"The body is nested deeper than {MAX_DEPTH} levels") from None
    if _SURROGATE_ESCAPE.search(text):
        path = _lone_surrogate_path(value)
        if path is not None:
            raise ValidationFailed("Invalid input", {path or BODY: [N_("contains a lone UTF-16 surrogate (invalid Unicode)")]})
    return value


def init_json_input(app) -> None:
    """``request.get_json()`` reads through ``app.json.loads``: make that the defensive loader."""
    from flask.json.provider import DefaultJSONProvider

    class SafeJSONProvider(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return load_request_json(s)

    provider = SafeJSONProvider(app)
    provider.ensure_ascii = app.json.ensure_ascii
    app.json = provider
