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
from datetime import datetime, timezone
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


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("time without a zone")
    return value


def canonical_time(text: str) -> str:
    return epcis_time(parse_time(text))


def _gtin_from_urn(prefix: str, item: str) -> str:
    body = (item[0] + prefix + item[1:]).zfill(13)
    return body + gtin_check_digit(body)


def canonical_uri(value: str) -> str:
    """EPC URNs -> GS1 Digital Link; CBV URNs -> CBV web URIs; others unchanged."""
    value = value.strip()
    for urn, prefix in URN_CBV.items():
        if value.startswith(urn):
            return CBV + prefix + value[len(urn):]
    try:
        if value.startswith("urn:epc:id:sgtin:"):
            cp, item, serial = value[17:].split(".", 2)
            return f"https://id.gs1.org/01/{_gtin_from_urn(cp, item)}/21/{serial}"
        if value.startswith("urn:epc:class:lgtin:"):
            cp, item, lot = value[20:].split(".", 2)
            return f"https://id.gs1.org/01/{_gtin_from_urn(cp, item)}/10/{lot}"
        if value.startswith("urn:epc:id:sscc:"):
            cp, ref = value[16:].split(".", 1)
            body = ref[0] + cp + ref[1:]
            return f"https://id.gs1.org/00/{body}{gtin_check_digit(body)}"
    except ValueError:
        return value
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


def schema_path() -> Path:
    from flask import current_app

    configured = current_app.config.get("EPCIS_SCHEMA_PATH")
    if configured:
        return Path(configured)
    from greenfin.config import ROOT

    return ROOT.parent / "shared" / "epcis" / "EPCIS-JSON-Schema.json"


@lru_cache(maxsize=4)
def _validator(path: str):
    from jsonschema import Draft7Validator, FormatChecker

    with open(path, encoding="utf-8") as fh:
        schema = json.load(fh)
    return Draft7Validator(schema, format_checker=FormatChecker())


def validator():
    return _validator(str(schema_path()))


def schema_errors(document: Any, limit: int = 20) -> list[str]:
    """Messages of the schema violations of ``document`` (at most ``limit``)."""
    out = []
    for error in validator().iter_errors(document):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        out.append(f"{where}: {error.message[:300]}")
        if len(out) >= limit:
            break
    return out


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
