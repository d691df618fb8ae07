"""What lending reads of eco-credit ratings (``credit``) and GEP accounting (``greenfin.gep``).

Read-style links go through ``greenfin.registry.contract``: the other package's published
``services`` façade when it is loaded in this app (``GREENFIN_FEATURES``), else None, and then
colours are "unrated" and GEP is absent. Tests monkeypatch these two functions.

Events go the other way: servicing announces ``loan_repaid`` / ``loan_defaulted``
(``greenfin.signals``) and credit's receivers decide what they are worth in points.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from greenfin.registry import contract


@dataclass
class ParcelGep:
    value: Decimal
    account_id: Optional[int]
    year: Optional[int]


def current_colour(party_id: int) -> Optional[str]:
    """The party's published eco-credit colour (green/blue/yellow/red), or None if unrated."""
    credit = contract("credit")
    if credit is None:
        return None
    rating = credit.current_rating(party_id)
    colour = getattr(rating, "colour", None) if rating is not None else None
    return colour if colour in credit.COLOURS else None


def insured(parcel_ids: list[int]) -> bool:
    """Whether every one of these pledged parcels carries live weather-index cover (False without
    parcels, or when the insurance package is not loaded): the pricing mitigant."""
    insurance = contract("greenfin.insurance")
    if insurance is None or not parcel_ids:
        return False
    return set(parcel_ids) <= set(insurance.insured_parcel_ids(parcel_ids))


def parcel_gep(parcel_id: int) -> Optional[ParcelGep]:
    """The parcel's latest GEP (yuan), or None when not accounted."""
    gep = contract("greenfin.gep")
    if gep is None:
        return None
    found = gep.current_parcel_gep(parcel_id)
    if found is None or getattr(found, "value", None) is None:
        return None
    return ParcelGep(Decimal(str(found.value)), getattr(found, "account_id", None), getattr(found, "year", None))
