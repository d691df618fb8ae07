"""Demand imported from a file (``flask market import-demand``): a public buyer's procurement plan as
CSV, all rows or none."""
from __future__ import annotations

import csv
from datetime import date
from typing import IO, Optional

from sqlalchemy import select

from greenfin.core.models import Party
from greenfin.errors import DomainError, ValidationFailed
from greenfin.extensions import db
from greenfin.registry import require

DEMAND_COLUMNS = ("buyer_uscc", "gtin", "quantity", "unit", "delivery_from", "delivery_until",
                  "required_certifications", "max_price")


def import_demand(stream: IO[str]) -> list:
    """Post one demand per CSV row (header ``DEMAND_COLUMNS``; the buyer by its unified social credit
    code, the product by GTIN, dates YYYY-MM-DD, certificate kinds separated by ``;``, ``max_price``
    optional). Every row is checked; one bad row refuses the file (422, each error under ``row N``,
    N counting the header as row 1) and nothing is posted."""
    from greenfin.market.services.trading import post_demand

    reader = csv.DictReader(stream)
    missing = [c for c in DEMAND_COLUMNS if c not in (reader.fieldnames or []) and c != "max_price"]
    if missing:
        raise ValidationFailed("The demand file is not valid", {"header": [f"missing columns: {', '.join(missing)}"]})
    errors: dict[str, list[str]] = {}
    posted = []
    savepoint = db.session.begin_nested()
    for number, row in enumerate(reader, start=2):
        key = f"row {number}"
        buyer = db.session.scalar(select(Party.id).where(Party.uscc == (row.get("buyer_uscc") or "").strip().upper()))
        product = require("traceability").product_by_gtin(row.get("gtin") or "")
        problems = []
        if buyer is None:
            problems.append("buyer_uscc: no party has this credit code")
        if product is None:
            problems.append("gtin: no product has this GTIN")
        dates = {}
        for field in ("delivery_from", "delivery_until"):
            try:
                dates[field] = date.fromisoformat((row.get(field) or "").strip())
            except ValueError:
                problems.append(f"{field}: must be a date YYYY-MM-DD")
        if problems:
            errors[key] = problems
            continue
        kinds = [k.strip() for k in (row.get("required_certifications") or "").split(";") if k.strip()]
        try:
            posted.append(post_demand({"buyer_id": buyer, "product_id": product.id, "quantity": row.get("quantity"),
                                       "unit": (row.get("unit") or "KGM").strip(), **dates,
                                       "required_certifications": kinds,
                                       "max_price": _blank(row.get("max_price"))}))
        except DomainError as exc:
            errors[key] = [f"{field}: {', '.join(map(str, messages))}" for field, messages in exc.errors.items()] \
                or [exc.message]
    if errors or not posted:
        savepoint.rollback()
        raise ValidationFailed("The demand file is not valid", errors or {"file": ["no rows"]})
    savepoint.commit()
    return posted


def _blank(value: Optional[str]) -> Optional[str]:
    return value.strip() if value and value.strip() else None
