"""GS1 Digital Link URIs for labels: unguessable serials and an HMAC signature.

A label's QR code carries ``PUBLIC_BASE_URL/01/<gtin14>/10/<lot>/21/<serial>?s=<sig>``.
``sig`` is the first 12 characters of the URL-safe base64 HMAC-SHA256 (72 bits) of the
path ``01/<gtin14>/10/<lot>/21/<serial>`` under ``LABEL_SIGNING_KEY``: without the key
nobody can mint a code that verifies, and the serial alone (80 random bits) cannot be
guessed either.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import quote

from greenfin.core.identifiers import InvalidIdentifier, normalise_gtin14, validate_gs1_ai82

# Crockford-style base32: digits and capitals without I, L, O, U (all inside the AI 82 set).
SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_LENGTH = 16  # 80 random bits
SIGNATURE_LENGTH = 12


def new_serial() -> str:
    return "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_LENGTH))


def new_serials(count: int) -> list[str]:
    """``count`` random serials, distinct among themselves (uniqueness in the DB is checked by the caller)."""
    out: set[str] = set()
    while len(out) < count:
        raw = secrets.token_bytes(10 * (count - len(out)))
        for i in range(0, len(raw), 10):
            n = int.from_bytes(raw[i:i + 10], "big")
            out.add("".join(SERIAL_ALPHABET[(n >> (5 * k)) & 31] for k in range(SERIAL_LENGTH)))
    return list(out)


def link_path(gtin: str, lot: str, serial: str) -> str:
    return f"01/{gtin}/10/{quote(lot, safe='')}/21/{quote(serial, safe='')}"


def sign(key: str, gtin: str, lot: str, serial: str) -> str:
    mac = hmac.new(key.encode(), link_path(gtin, lot, serial).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_LENGTH]


def verify(key: str, gtin: str, lot: str, serial: str, signature: str | None) -> bool:
    if not signature or len(signature) != SIGNATURE_LENGTH:
        return False
    return hmac.compare_digest(sign(key, gtin, lot, serial), signature)


def label_uri(base_url: str, gtin: str, lot: str, serial: str, signature: str) -> str:
    return f"{base_url.rstrip('/')}/{link_path(gtin, lot, serial)}?s={signature}"


# Path segments a browser rewrites before sending (RFC 3986 dot segments; WHATWG URL also treats
# "%2e" as "."): a lot code that is one of them cannot survive the trip from label to scan.
DOT_SEGMENTS = frozenset({".", ".."})


def validate_lot_code(code: str) -> str:
    """A lot code (AI 10) a label can carry: AI 82 characters, and not "." or ".." (which phones'
    browsers resolve away as dot segments). "/" and every other AI 82 character are fine: the label
    percent-encodes them (``link_path``) and the scan route takes them back whole."""
    validate_gs1_ai82(code)
    if code in DOT_SEGMENTS:
        raise InvalidIdentifier('"." and ".." cannot be carried in a Digital Link path')
    return code


_SPLIT = re.compile(r"([^/]+)/10/(.+?)/21/([^/]+)", re.S)


def split_path(rest: str) -> tuple[str, str, str] | None:
    """GTIN, lot and serial of a decoded path after ``/01/`` whose lot code holds "/".

    The label percent-encodes "/" as %2F (``link_path``); the server decodes it before routing,
    so the lot can span path segments, or begin or end with "/". The split is unambiguous all
    the same: the GTIN before it and the serial after it never hold "/", so the lot is everything
    between ``<gtin>/10/`` and the last ``/21/``.
    """
    match = _SPLIT.fullmatch(rest)
    return match.groups() if match else None


def parse_path_values(gtin: str, lot: str, serial: str) -> tuple[str, str, str]:
    """Validate the three values of a scanned path; raises InvalidIdentifier."""
    if len(gtin) != 14:
        raise InvalidIdentifier("GTIN must have 14 digits in a Digital Link")
    gtin = normalise_gtin14(gtin)
    return gtin, validate_gs1_ai82(lot), validate_gs1_ai82(serial)


# ---------------------------------------------------------------- canonical GS1 identifiers (EPCIS)

GS1_DL = "https://id.gs1.org"


def sgtin(gtin: str, serial: str) -> str:
    return f"{GS1_DL}/01/{gtin}/21/{quote(serial, safe='')}"


def lgtin(gtin: str, lot: str) -> str:
    return f"{GS1_DL}/01/{gtin}/10/{quote(lot, safe='')}"


def sscc(gtin: str, number: int) -> str:
    """An SSCC for a carton or pallet under the product's company prefix (digits 2-8 of the GTIN)."""
    from greenfin.core.identifiers import gtin_check_digit

    body = "0" + gtin[1:8] + f"{number % 10**9:09d}"
    return f"{GS1_DL}/00/{body}{gtin_check_digit(body)}"
