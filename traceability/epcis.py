"""GS1 EPCIS 2.0 JSON-LD: building events, the CBV 2.0 event hash, schema validation.

Event IDs follow the CBV 2.0 event-hash method (CBV 2.0 section 8.9): a pre-hash string
is built from the event's fields in the canonical property order, each as
``name=value`` with lists sorted, CBV values expanded to their web URIs
(``https://ref.gs1.org/cbv/BizStep-shipping``), EPC URNs rewritten as canonical GS1
Digital Link URIs, times in UTC at millisecond precision; ``recordTime``,
``eventID`` and ``certificationInfo`` are left out. The ID is
``ni:///sha-256;<hex of SHA-256(pre-hash)>?ver=CBV2.0``. The same event therefore
gets the same ID however it is written, which makes capture idempotent.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from greenfin.core.identifiers import gtin_check_digit

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
GF_NS = "https://greenfin.guangfeng.example/voc/"
CONTEXT = [EPCIS_CONTEXT, {"gf": GF_NS}]
CBV = "https://ref.gs1.org/cbv/"

# Our business processes and how they are written in EPCIS 2.0 / CBV 2.0.
KIND_VOCAB = {
    "harvest": ("ObjectEvent", "ADD", "commissioning", "active"),
    "inspection": ("ObjectEvent", "OBSERVE", "inspecting", "conformant"),
    "grading": ("ObjectEvent", "OBSERVE", "sampling", "conformant"),
    "packing": ("AggregationEvent", "ADD", "packing", "in_progress"),
    "shipping": ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    "receiving": ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    "retail": ("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"),
    "transformation": ("TransformationEvent", None, "commissioning", "active"),
    "recall": ("ObjectEvent", "OBSERVE", "holding", "recalled"),
}

PROP_ORDER = (
    "eventTime", "eventTimeZoneOffset", "epcList", "parentID", "inputEPCList", "childEPCs", "quantityList",
    "childQuantityList", "inputQuantityList", "outputEPCList", "outputQuantityList", "action", "transformationID",
    "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList",
    "sourceList", "destinationList", "sensorElementList", "ilmd",
)
IGNORED = {"@context", "type", "eventID", "recordTime", "certificationInfo", "errorDeclaration"}
EPC_LISTS = {"epcList", "inputEPCList", "childEPCs", "outputEPCList"}
QTY_LISTS = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
CBV_PREFIX = {"bizStep": "BizStep-", "disposition": "Disp-"}
URN_CBV = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-", "urn:epcglobal:cbv:disp:": "Disp-", "urn:epcglobal:cbv:btt:": "BTT-",
    "urn:epcglobal:cbv:sdt:": "SDT-", "urn:epcglobal:cbv:er:": "ER-",
}


# ---------------------------------------------------------------- canonical values


def epcis_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))")


def parse_time(text: Any) -> datetime:
    """An RFC 3339 date-time (``2026-10-20T08:00:00.5+08:00``), strictly: a zone is required and
    every part must exist (no month 13, no 30 February); ValueError otherwise."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 2026-10-20T08:00:00+08:00")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, zulu, sign, off_h, off_m = match.group(7, 8, 9, 10, 11)
    if zulu:
        zone = timezone.utc
    else:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError("has an impossible time-zone offset")
        delta = timedelta(hours=int(off_h), minutes=int(off_m))
        zone = timezone(-delta if sign == "-" else delta)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        raise ValueError("is not a date and time that exists") from None


def is_time(value: Any) -> bool:
    """The ``date-time`` format, checked for real (jsonschema skips it without an extra package)."""
    if not isinstance(value, str):
        return True  # "type" says what else is wrong
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def canonical_time(text: str) -> str:
    return epcis_time(parse_time(text))


class InvalidEpc(ValueError):
    """A malformed EPC URN (TDS 2.0 pure-identity or class form)."""


# Company prefix of 6 to 12 digits; with the item reference (indicator first) 13 digits; the
# serial or lot is 1 to 20 characters of GS1 AI 82, %-escaped as TDS says.
_AI82 = r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2}){1,20}"
_EPC_URNS = {
    "urn:epc:id:sgtin:": (re.compile(rf"(\d{{6,12}})\.(\d{{1,7}})\.({_AI82})"), 13, "21"),
    "urn:epc:class:lgtin:": (re.compile(rf"(\d{{6,12}})\.(\d{{1,7}})\.({_AI82})"), 13, "10"),
    "urn:epc:id:sscc:": (re.compile(r"(\d{6,12})\.(\d{5,11})"), 17, "00"),
}


def _epc_urn(scheme: str, rest: str) -> str:
    pattern, digits, ai = _EPC_URNS[scheme]
    match = pattern.fullmatch(rest)
    if match is None or len(match.group(1)) + len(match.group(2)) != digits:
        raise InvalidEpc(f"malformed EPC URN {scheme}{rest[:60]}")
    cp, ref = match.group(1), match.group(2)
    body = ref[0] + cp + ref[1:]  # the indicator or extension digit comes first
    key = body + gtin_check_digit(body)
    if ai == "00":
        return f"https://id.gs1.org/00/{key}"
    return f"https://id.gs1.org/01/{key}/{ai}/{match.group(3)}"


def canonical_uri(value: str) -> str:
    """EPC URNs -> GS1 Digital Link; CBV URNs -> CBV web URIs; others unchanged.

    A malformed SGTIN, LGTIN or SSCC URN raises InvalidEpc (a ValueError).
    """
    value = value.strip()
    for urn, prefix in URN_CBV.items():
        if value.startswith(urn):
            return CBV + prefix + value[len(urn):]
    for scheme in _EPC_URNS:
        if value.startswith(scheme):
            return _epc_urn(scheme, value[len(scheme):])
    if value.startswith("http://id.gs1.org/"):
        return "https://" + value[7:]
    return value


def _cbv(field: str, value: str) -> str:
    if ":" in value:
        return canonical_uri(value)
    return CBV + CBV_PREFIX[field] + value


def _typed(value: str, prefix: str) -> str:
    return canonical_uri(value) if ":" in value else CBV + prefix + value


def _number(value: Any) -> str:
    d = Decimal(str(value)).normalize()
    return format(d, "f") if d == d.to_integral() else str(d)


def _expand_key(key: str) -> str:
    if key.startswith("gf:"):
        return GF_NS + key[3:]
    return key


def _generic(key: str, value: Any) -> str:
    name = _expand_key(key)
    if isinstance(value, dict):
        return name + "".join(sorted(_generic(k, v) for k, v in value.items()))
    if isinstance(value, list):
        return "".join(sorted(_generic(key, v) for v in value))
    if isinstance(value, bool):
        return f"{name}={'true' if value else 'false'}"
    if isinstance(value, (int, float, Decimal)):
        return f"{name}={_number(value)}"
    text = str(value).strip()
    return f"{name}={canonical_uri(text) if ':' in text else text}"


def prehash(event: dict) -> str:
    """The CBV 2.0 pre-hash string of one event."""
    parts = ["eventType=" + event["type"]]
    for field in PROP_ORDER:
        if field not in event or event[field] in (None, [], {}):
            continue
        value = event[field]
        if field == "eventTime":
            parts.append("eventTime=" + canonical_time(value))
        elif field in EPC_LISTS:
            parts.append(field + "".join(sorted("epc=" + canonical_uri(v) for v in value)))
        elif field in QTY_LISTS:
            items = []
            for q in value:
                s = "quantityElement" + "epcClass=" + canonical_uri(q["epcClass"])
                if "quantity" in q:
                    s += "quantity=" + _number(q["quantity"])
                if "uom" in q:
                    s += "uom=" + q["uom"]
                items.append(s)
            parts.append(field + "".join(sorted(items)))
        elif field in ("bizStep", "disposition"):
            parts.append(f"{field}={_cbv(field, value)}")
        elif field == "persistentDisposition":
            s = field
            for sub in ("set", "unset"):
                if value.get(sub):
                    s += "".join(sorted(f"{sub}={_cbv('disposition', v)}" for v in value[sub]))
            parts.append(s)
        elif field in ("readPoint", "bizLocation"):
            parts.append(f"{field}id={canonical_uri(value['id'])}")
        elif field == "bizTransactionList":
            parts.append(field + "".join(sorted(
                f"bizTransaction={canonical_uri(b['bizTransaction'])}"
                + (f"type={_typed(b['type'], 'BTT-')}" if b.get("type") else "") for b in value)))
        elif field in ("sourceList", "destinationList"):
            key = "source" if field == "sourceList" else "destination"
            parts.append(field + "".join(sorted(
                f"{key}={canonical_uri(s[key])}type={_typed(s['type'], 'SDT-')}" for s in value)))
        elif field in ("sensorElementList", "ilmd"):
            parts.append(_generic(field, value))
        else:
            parts.append(f"{field}={value}")
    extensions = sorted(_generic(k, v) for k, v in event.items()
                        if k not in IGNORED and k not in PROP_ORDER)
    parts.extend(extensions)
    return "".join(parts)


def event_hash(event: dict) -> str:
    return "ni:///sha-256;" + hashlib.sha256(prehash(event).encode("utf-8")).hexdigest() + "?ver=CBV2.0"


# ---------------------------------------------------------------- schema


# Our own schema of the subset we capture (docs/traceability.md, "Capture"); EPCIS_SCHEMA_PATH
# may name another draft-07 schema (e.g. GS1's full one) to validate against instead.
CAPTURE_SCHEMA = Path(__file__).with_name("epcis_capture_schema.json")
ERROR_LIMIT = 20


def schema_path() -> Path:
    from flask import current_app

    return Path(current_app.config.get("EPCIS_SCHEMA_PATH") or CAPTURE_SCHEMA)


def format_checker():
    """A format checker that really checks ``date-time`` (RFC 3339, strictly) and nothing it cannot."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_time)
    return checker


@lru_cache(maxsize=4)
def _validator(path: str):
    from jsonschema import Draft7Validator

    with open(path, encoding="utf-8") as fh:
        schema = json.load(fh)
    return Draft7Validator(schema, format_checker=format_checker())


def validator():
    return _validator(str(schema_path()))


def _where(path: Iterable) -> str:
    return ".".join(str(p) for p in path) or "document"


def _schema_message(error) -> str:
    if error.validator == "format":
        return "must be an RFC 3339 date-time with a time zone, e.g. 2026-10-20T08:00:00+08:00"
    if list(error.absolute_path)[-1:] == ["type"] and error.validator in ("enum", "const"):
        return "unknown or unsupported EPCIS type"
    return error.message[:300]


def identifiers(event: dict, where: str) -> Iterable[tuple[str, Any]]:
    """(field path, value) of every identifier an event names: EPCs, classes, parent, transformation."""
    for key in EPC_LISTS:
        for i, value in enumerate(event.get(key) or []):
            yield f"{where}.{key}.{i}", value
    for key in QTY_LISTS:
        for i, item in enumerate(event.get(key) or []):
            yield f"{where}.{key}.{i}.epcClass", item.get("epcClass") if isinstance(item, dict) else None
    for key in ("parentID", "transformationID"):
        if key in event:
            yield f"{where}.{key}", event[key]


def document_errors(document: Any) -> dict[str, list[str]]:
    """What is wrong with an EPCIS document we are asked to capture, by field path
    (``epcisBody.eventList.3.eventTime``); empty when it may be captured.

    The schema first (shape, CBV values, strict date-times, positive quantities), then what a
    schema cannot say: EPC URNs that are well-formed, and an event-hash that can be computed.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        if sum(len(v) for v in errors.values()) < ERROR_LIMIT:
            errors.setdefault(field, []).append(message)

    for error in validator().iter_errors(document):
        add(_where(error.absolute_path), _schema_message(error))
    if errors:
        return errors
    for n, event in enumerate(document["epcisBody"]["eventList"]):
        where = f"epcisBody.eventList.{n}"
        for field, value in identifiers(event, where):
            try:
                canonical_uri(value) if isinstance(value, str) else None
            except InvalidEpc as exc:
                add(field, str(exc))
        if not errors:
            try:
                event_hash(event)
            except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
                add(where, f"cannot be read: {exc}"[:300])
    return errors


# ---------------------------------------------------------------- documents


def document_head(creation: datetime, sender: Optional[str] = None) -> str:
    """The opening of an EPCISDocument up to the event list, for streaming writers."""
    head = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": epcis_time(creation)}
    if sender:
        head["sender"] = sender
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + ', "epcisBody": {"eventList": ['


DOCUMENT_TAIL = "]}}\n"


def write_document(out, events: Iterable[dict], creation: datetime, sender: Optional[str] = None) -> int:
    """Stream a document: header, then each event as it comes, then the tail."""
    out.write(document_head(creation, sender))
    n = 0
    for event in events:
        out.write(("\n" if n == 0 else ",\n") + json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        n += 1
    out.write("\n" + DOCUMENT_TAIL)
    return n
