"""The GEP charts, defined once for the pages and the PDF report (greenfin/charts.py draws them)."""
from __future__ import annotations

from decimal import Decimal
from typing import Callable

from greenfin.charts import Chart

CATEGORIES = ("provisioning", "regulating", "cultural")


def _wan(value) -> Decimal:
    """Yuan as 10,000 CNY (万元), exact."""
    return Decimal(str(value or 0)) / 10000


def share_chart(shares: dict, label: Callable[[str], str]) -> Chart:
    """The three category shares (percent), each in its category's colour."""
    return Chart("bar", [(label(code), shares.get(code) or 0, code) for code in CATEGORIES], unit="%")


def service_chart(rows: list[dict], label: Callable[[str], str]) -> Chart:
    """Value by ecosystem service in 10,000 CNY, coloured by category (two charts side by side on the
    pages: the phone rendering serves)."""
    return Chart("bar", [(label(r["code"]), _wan(r["value"]), r["category"]) for r in rows], digits=1, wide=False)


def area_chart(rows: list[dict], name: Callable[[dict], str]) -> Chart:
    """GEP by township or village in 10,000 CNY."""
    return Chart("bar", [(name(r), _wan(r["total"])) for r in rows], digits=1, wide=False)
