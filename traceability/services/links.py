"""Traceability's links to other packages: reads through the registry (credit colour, GEP summary,
each optional and guarded for the public scan page) and the certificate events it announces."""
from __future__ import annotations

import logging
from typing import Optional

from greenfin.extensions import db
from greenfin.registry import contract
from greenfin.signals import announce
from traceability.models import Certification

log = logging.getLogger(__name__)


def _guarded(call, *args):
    """Another package's read for the public scan page: a failure there must not break the page.

    Runs in a savepoint so that a failed statement does not abort the request's transaction.
    """
    try:
        with db.session.begin_nested():
            return call(*args)
    except Exception:  # noqa: BLE001  (logged; the page shows the item as unavailable)
        log.exception("%s failed for the scan page", getattr(call, "__name__", call))
        return None


def credit_colour(party_id: int) -> Optional[str]:
    credit = contract("credit")
    if credit is None or not hasattr(credit, "current_rating"):
        return None
    rating = _guarded(credit.current_rating, party_id)
    return getattr(rating, "colour", None) if rating is not None else None


def credit_colours() -> list[str]:
    """The eco-credit colours, best to worst (the key on the scan page); none without credit."""
    credit = contract("credit")
    return list(getattr(credit, "COLOURS", ())) if credit is not None else []


def gep_summary(parcel_id: int) -> Optional[dict]:
    gep = contract("greenfin.gep")
    if gep is None or not hasattr(gep, "scan_summary"):
        return None
    return _guarded(gep.scan_summary, parcel_id)


def gep_brief(parcel_id: int) -> Optional[dict]:
    summary = gep_summary(parcel_id)
    if not summary:
        return None
    return {"year": summary.get("year"), "total_value": str(summary.get("total_value")),
            "value_per_ha": str(summary.get("value_per_ha")),
            "top_services": [{"name_zh": s.get("name_zh"), "name_en": s.get("name_en"), "share": str(s.get("share"))}
                             for s in summary.get("top_services", [])]}


def announce_certification(signal, cert: Certification, **facts) -> None:
    """Tell the packages that care (eco-credit points); a refusal there is audited, the
    certificate still stands (greenfin/signals.py)."""
    announce(signal, entity_type="trace_certification", entity_id=cert.id, party_id=cert.party_id,
             certification_id=cert.id, kind=cert.kind, **facts)

