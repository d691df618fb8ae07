"""The servicer report's charts, defined once for the page (staff and public) and the PDF."""
from __future__ import annotations

from decimal import Decimal
from typing import Callable, Sequence

from flask_babel import gettext

from greenfin import labels
from greenfin.charts import Chart


def N_(message: str) -> str:
    """Marks a message for extraction; ``label`` translates it."""
    return message


def _share(value) -> Decimal:
    return Decimal(str(value or 0)) * 100


def bucket_colour(bucket: str) -> str:
    return "green" if bucket == "current" else ("yellow" if bucket in ("1-30", "31-60") else "red")


def report_charts(f: dict, history: Sequence, label: Callable[[str], str] = gettext,
                  code_label: Callable[[str, str], str] = labels.label) -> dict[str, Chart]:
    """``f``: a report's figures; ``history``: the reports up to it, oldest first; ``label`` names the
    categories (the page's language, or both languages in the PDF); ``code_label`` names coded values
    (delinquency buckets, uses of proceeds) from their label catalogue."""
    c = f["collections"]
    return {
        "collections": Chart("bar", [(label(N_("Interest")), c["interest"]), (label(N_("Scheduled principal")), c["scheduled_principal"]),
                                     (label(N_("Prepayments")), c["prepayment"]), (label(N_("Fees")), c["fees"]),
                                     (label(N_("Recoveries")), f["recoveries"])],
                             empty=label(N_("No collections this month.")), wide=False),
        "delinquency": Chart("bar", [(code_label("dpd_bucket", b["bucket"]), _share(b["share"]),
                                      bucket_colour(b["bucket"])) for b in f["delinquency"]],
                             unit="%", empty=label(N_("No loans.")), wide=False),
        "pool_factor": Chart("column", [(h.month[2:], _share((h.figures or {}).get("pool_factor"))) for h in history],
                             unit="%", height=120, wide=False),
        "proceeds": Chart("bar", [(code_label("use_of_proceeds", cat["category"]) if cat["category"] else label(N_("Unknown")), _share(cat["share"])) for cat in f["green"]["categories"]],
                          unit="%", empty=label(N_("No loans."))),
    }
