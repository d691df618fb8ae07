"""What lending reads of eco-credit ratings (``credit``), GEP accounting (``greenfin.gep``) and the
carbon registry (``greenfin.carbon``: pledged tonnes as CARBON-SINK collateral).

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


def carbon_registry_installed() -> bool:
    return contract("greenfin.carbon") is not None


def carbon_collateral(application_id: int) -> Optional[dict]:
    """Carbon units pledged to the application now, valued (tonnes, value, lendable, price with
    source and date), or None when the carbon registry is not installed."""
    carbon = contract("greenfin.carbon")
    if carbon is None:
        return None
    found = carbon.collateral_of([application_id]).get(application_id)
    return found or {"tonnes": 0, "value": Decimal("0.00"), "lendable": Decimal("0.00"), "price": None,
                     "price_source": None, "price_date": None, "haircut": None}


def parcel_carbon_pledged(parcel_id: int) -> bool:
    """Whether the parcel's forest carbon is pledged in the carbon registry."""
    carbon = contract("greenfin.carbon")
    return bool(carbon is not None and carbon.parcels_with_pledged_carbon([parcel_id]))
