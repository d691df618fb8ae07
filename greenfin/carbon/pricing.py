"""What pledged carbon is worth as collateral: the reference price (with its source and date) and
the haircut; and the buffer share held back at issuance. The one home of these defaults (set them
in the environment: greenfin/config.py); each pledge records the figures it used."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, has_app_context

CENT = Decimal("0.01")
DEFAULTS = {
    "CARBON_BUFFER_SHARE": "0.10",  # share of each issuance held in the district buffer
    # the national carbon market's (CEA) 2025 annual mean closing price, as GEP accounting uses it
    "CARBON_REFERENCE_PRICE": "72.00",
    "CARBON_REFERENCE_PRICE_SOURCE": "national carbon market (CEA) annual mean closing price 2025",
    "CARBON_REFERENCE_PRICE_DATE": "2025-12-31",
    "CARBON_PLEDGE_HAIRCUT": "0.30",
}


@dataclass(frozen=True)
class ReferencePrice:
    price: Decimal  # CNY per tonne CO2e
    source: str
    on: date


def _setting(name: str) -> str:
    return str(current_app.config.get(name, DEFAULTS[name]) if has_app_context() else DEFAULTS[name])


def reference_price() -> ReferencePrice:
    """The price a pledge values its tonnes at unless the officer gives another (with its source)."""
    return ReferencePrice(Decimal(_setting("CARBON_REFERENCE_PRICE")).quantize(CENT),
                          _setting("CARBON_REFERENCE_PRICE_SOURCE"), date.fromisoformat(_setting("CARBON_REFERENCE_PRICE_DATE")))


def default_buffer_share() -> Decimal:
    return Decimal(_setting("CARBON_BUFFER_SHARE"))


def default_haircut() -> Decimal:
    return Decimal(_setting("CARBON_PLEDGE_HAIRCUT"))


def collateral_value(tonnes: int, price: Decimal) -> Decimal:
    return (Decimal(tonnes) * price).quantize(CENT)


def lendable_value(tonnes: int, price: Decimal, haircut: Decimal) -> Decimal:
    """Pledged tonnes x reference price x (1 - haircut), in CNY."""
    return (Decimal(tonnes) * price * (1 - haircut)).quantize(CENT)
