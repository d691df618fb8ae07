"""The seam to the eco-credit ledger (``credit``) and GEP accounting (``greenfin.gep``).

Lending reads those packages only through these functions, imported lazily, so lending
works (and is tested) whether or not they are installed; tests monkeypatch these names.
When a package is absent or not loaded (``GREENFIN_FEATURES``), reads return None and
point postings are skipped (and logged); a posting the ledger refuses is audited, and the
loan event that caused it still stands.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from flask import current_app

log = logging.getLogger(__name__)
COLOURS = ("green", "blue", "yellow", "red")


@dataclass
class ParcelGep:
    value: Decimal
    account_id: Optional[int]
    year: Optional[int]


def _service(package: str):
    """The package's services module when the package is loaded in this app, else None."""
    loaded = current_app.extensions.setdefault("lending_links", {})
    if package not in loaded:
        from greenfin import installed_features

        names = {m.__name__ for m in installed_features()}
        module = None
        if package in names:
            try:
                module = importlib.import_module(f"{package}.services")
            except ImportError:  # half-written or broken: lending keeps working
                log.warning("%s.services could not be imported", package)
        loaded[package] = module
    return loaded[package]


def current_colour(party_id: int) -> Optional[str]:
    """The party's published eco-credit colour (green/blue/yellow/red), or None if unrated."""
    services = _service("credit")
    if services is None:
        return None
    rating = services.current_rating(party_id)
    colour = getattr(rating, "colour", None) if rating is not None else None
    return colour if colour in COLOURS else None


def parcel_gep(parcel_id: int) -> Optional[ParcelGep]:
    """The parcel's latest GEP (yuan), or None when not accounted."""
    services = _service("greenfin.gep")
    if services is None:
        return None
    found = services.current_parcel_gep(parcel_id)
    if found is None or getattr(found, "value", None) is None:
        return None
    return ParcelGep(Decimal(str(found.value)), getattr(found, "account_id", None), getattr(found, "year", None))


def post_points(party_id: int, rule_code: str, *, source: str, source_id: Any, effective_date: Optional[date] = None,
                evidence: Optional[dict] = None) -> bool:
    """Post eco-credit points (LOAN_REPAID_ON_TIME, LOAN_DEFAULTED). True when posted."""
    services = _service("credit")
    if services is None:
        log.info("credit not loaded: %s for party %s not posted", rule_code, party_id)
        return False
    from greenfin.core.services import record_audit
    from greenfin.errors import DomainError
    from greenfin.extensions import db

    evidence = {k: str(v) for k, v in (evidence or {}).items()}  # the ledger keeps evidence as text
    try:
        with db.session.begin_nested():  # a refusal by the ledger never undoes the loan event itself
            services.post_event_points(party_id, rule_code, source=source, source_id=str(source_id),
                                       effective_date=effective_date, evidence=evidence)
    except DomainError as exc:
        log.warning("credit refused %s for party %s: %s", rule_code, party_id, exc)
        record_audit("lending.points.refused", source, source_id, after={"rule": rule_code, "error": str(exc)},
                     party_id=party_id)
        return False
    return True
