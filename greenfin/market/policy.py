"""The market's rules, each declared once: when a lot may be offered, which offers fit a demand and
how they are ranked (docs/market.md, "Matching").

Everything here reads plain values (traceability's ``lot_facts`` entries, offers and demand as
dicts or rows); nothing writes.
"""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Iterable, Optional

from greenfin.errors import N_

# The certificate kinds an offer can claim and a demand can require (traceability's test reports
# are evidence, not a mark, and are not claimed).
CLAIMABLE_KINDS = ("green_food", "organic", "gi")

# Producer colours (credit's four-colour rating), best first; an unrated producer scores as yellow.
COLOUR_SCORE = {"green": Decimal("1"), "blue": Decimal("0.75"), "yellow": Decimal("0.5"), "red": Decimal("0")}
UNRATED_SCORE = Decimal("0.5")

# Weights of the ranking's criteria (they sum to 1): each criterion scores an offer from 0 to 1.
WEIGHTS = {"certification": Decimal("0.35"), "distance": Decimal("0.25"), "price": Decimal("0.25"),
           "colour": Decimal("0.15")}
# Beyond this distance from the buyer's township an offer scores 0 for distance.
FAR_KM = Decimal("60")


def offer_refusals(facts: dict, claimed: Iterable[str]) -> dict[str, list[str]]:
    """Why a lot may not be offered today (field -> reasons), empty when it may: the lot is recalled;
    the producer's authorisation to use the product's GI brand is lapsed, revoked or missing; a
    claimed certificate kind has no certificate valid today on the lot (its certificate expired,
    was revoked or never existed)."""
    errors: dict[str, list[str]] = {}
    if facts["recalled"]:
        errors.setdefault("lot_id", []).append(N_("the lot is recalled"))
    brand = facts.get("brand")
    if brand is not None and brand["status"] != "active":
        message = {"lapsed": N_("the producer's authorisation to use the GI brand %(brand)s has lapsed",
                                brand=brand["name"]),
                   "revoked": N_("the producer's authorisation to use the GI brand %(brand)s is revoked",
                                 brand=brand["name"])}.get(brand["status"],
                                                            N_("the producer is not authorised to use the GI brand %(brand)s",
                                                               brand=brand["name"]))
        errors.setdefault("lot_id", []).append(message)
    for kind in claimed:
        statuses = [c["status"] for c in facts["certifications"] if c["kind"] == kind]
        if "valid" in statuses:
            continue
        if "expired" in statuses:
            errors.setdefault("certification_kinds", []).append(N_("the %(kind)s certificate has expired", kind=kind))
        elif "revoked" in statuses:
            errors.setdefault("certification_kinds", []).append(N_("the %(kind)s certificate is revoked", kind=kind))
        else:
            errors.setdefault("certification_kinds", []).append(N_("the lot carries no valid %(kind)s certificate",
                                                                   kind=kind))
    return errors


def claimed_kinds(facts: dict) -> list[str]:
    """The certificate kinds an offer claims when the producer names none: every claimable kind
    the lot has a certificate of (so an expired one refuses the offer until it is renewed or the
    producer offers without that claim)."""
    return sorted({c["kind"] for c in facts["certifications"] if c["kind"] in CLAIMABLE_KINDS})


def valid_kinds(facts: dict) -> set[str]:
    return {c["kind"] for c in facts["certifications"] if c["status"] == "valid"}


def windows_overlap(a_from: date, a_until: date, b_from: date, b_until: date) -> bool:
    return a_from <= b_until and b_from <= a_until


def distance_km(lat1, lon1, lat2, lon2) -> Optional[Decimal]:
    """Great-circle distance (haversine, Earth radius 6371 km), to 0.1 km; None without coordinates."""
    if None in (lat1, lon1, lat2, lon2):
        return None
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return Decimal(str(round(2 * 6371 * math.asin(math.sqrt(h)), 1)))


def incompatibility(demand: dict, offer: dict, facts: dict) -> Optional[str]:
    """Why an open offer cannot serve a demand, or None: another product or unit, nothing left,
    delivery windows that do not meet, a price above the buyer's ceiling, a required certificate
    kind not valid today on the lot, or a lot that may not be offered today."""
    if offer["product_id"] != demand["product_id"] or offer["unit"] != demand["unit"]:
        return "product"
    if offer["available"] <= 0:
        return "sold_out"
    if not windows_overlap(offer["delivery_from"], offer["delivery_until"], demand["delivery_from"],
                           demand["delivery_until"]):
        return "window"
    if demand.get("max_price") is not None and offer["unit_price"] > demand["max_price"]:
        return "price"
    if set(demand["required_certifications"]) - valid_kinds(facts):
        return "certification"
    if offer_refusals(facts, ()):
        return "lot"
    return None


def score(demand: dict, offer: dict, facts: dict, distance: Optional[Decimal], colour: Optional[str],
          lowest_price: Decimal, highest_price: Decimal) -> dict:
    """An offer's scores for a demand (each 0..1, to 3 places) and their weighted total:

    - certification: the share of the claimable kinds valid on the lot (required ones are already
      met by every compatible offer; more marks rank higher);
    - distance: 1 at the buyer's township, falling linearly to 0 at ``FAR_KM`` (unknown: 0);
    - price: 1 for the cheapest compatible offer, 0 for the dearest (all equal: 1);
    - colour: the producer's credit colour (``COLOUR_SCORE``; unrated ``UNRATED_SCORE``).
    """
    q = Decimal("0.001")
    cert = Decimal(len(valid_kinds(facts) & set(CLAIMABLE_KINDS))) / len(CLAIMABLE_KINDS)
    dist = Decimal(0) if distance is None else max(Decimal(0), 1 - distance / FAR_KM)
    spread = highest_price - lowest_price
    price = Decimal(1) if spread == 0 else (highest_price - offer["unit_price"]) / spread
    col = COLOUR_SCORE.get(colour, UNRATED_SCORE) if colour else UNRATED_SCORE
    parts = {"certification": cert.quantize(q), "distance": dist.quantize(q), "price": price.quantize(q),
             "colour": col.quantize(q)}
    parts["total"] = sum((WEIGHTS[k] * v for k, v in parts.items()), Decimal(0)).quantize(q)
    return parts
