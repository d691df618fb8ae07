"""The loan tape: one CSV row per loan, field names in the wording of ESMA's underlying
exposures template for corporates (Annex IV of Delegated Regulation (EU) 2020/1224),
with the green fields of this platform appended.

Where a value is unknown the cell carries a No-Data code instead of a blank, as
ESMA's templates require:

ND1  data not collected, as the lending or underwriting criteria do not require it
ND2  data collected at application but not loaded into the reporting system
ND3  data collected but loaded into a system separate from the reporting system
ND4  data collected but available only at a later date
ND5  not applicable

Each field has the code that explains its usual gap (an unsecured loan has no
collateral value: ND5; an obligor without a published eco-credit rating: ND1);
a record may also carry a code explicitly as the field's value.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional, TextIO

from greenfin import downloads

ND_CODES = {
    "ND1": "Data not collected as not required by the lending or underwriting criteria",
    "ND2": "Data collected on application but not loaded into the reporting system",
    "ND3": "Data collected on application but loaded onto a separate system from the reporting system",
    "ND4": "Data collected but will only be available from a later date",
    "ND5": "Not applicable",
}


def _money(v: Any) -> str:
    return f"{Decimal(str(v)).quantize(Decimal('0.01'))}"


def _percent(v: Any) -> str:
    """A fraction (0.0435) as a percentage with four decimals (4.3500)."""
    return f"{(Decimal(str(v)) * 100).quantize(Decimal('0.0001'))}"


def _date(v: Any) -> str:
    if isinstance(v, datetime):
        v = v.date()
    return v.isoformat() if isinstance(v, date) else str(v)


def _int(v: Any) -> str:
    return str(int(v))


def _text(v: Any) -> str:
    return str(v)


@dataclass(frozen=True)
class TapeField:
    header: str
    key: str
    fmt: Callable[[Any], str]
    nd: str  # the No-Data code used when the value is missing


TAPE_FIELDS: tuple[TapeField, ...] = (
    TapeField("Unique Identifier", "pool_code", _text, "ND5"),
    TapeField("Original Underlying Exposure Identifier", "loan_ref", _text, "ND5"),
    TapeField("New Underlying Exposure Identifier", "loan_ref", _text, "ND5"),
    TapeField("Original Obligor Identifier", "obligor_ref", _text, "ND5"),
    TapeField("New Obligor Identifier", "obligor_ref", _text, "ND5"),
    TapeField("Data Cut-Off Date", "cut_off_date", _date, "ND5"),
    TapeField("Pool Addition Date", "pool_addition_date", _date, "ND2"),
    TapeField("Geographic Region - Obligor", "township", _text, "ND2"),
    TapeField("Obligor Industry", "sector", _text, "ND1"),
    TapeField("Product Type", "product", _text, "ND2"),
    TapeField("Origination Date", "origination_date", _date, "ND2"),
    TapeField("Maturity Date", "maturity_date", _date, "ND2"),
    TapeField("Original Term", "original_term", _int, "ND2"),
    TapeField("Remaining Term", "remaining_term", _int, "ND2"),
    TapeField("Currency Denomination", "currency", _text, "ND5"),
    TapeField("Original Principal Balance", "original_balance", _money, "ND2"),
    TapeField("Current Principal Balance", "balance", _money, "ND5"),
    TapeField("Amortisation Type", "amortisation", _text, "ND2"),
    TapeField("Current Interest Rate", "rate", _percent, "ND2"),
    TapeField("Number Of Days In Arrears", "dpd", _int, "ND2"),
    TapeField("Account Status", "status", _text, "ND2"),
    TapeField("Collateral Type", "collateral_type", _text, "ND5"),
    TapeField("Current Valuation Amount", "collateral_value", _money, "ND5"),
    TapeField("Current Loan-To-Value", "ltv", _percent, "ND5"),
    TapeField("Green Use Of Proceeds", "green_category", _text, "ND5"),
    TapeField("Eco-Credit Rating Colour", "colour", _text, "ND1"),
    TapeField("Collateral GEP", "collateral_gep", _money, "ND5"),
    TapeField("Pledged Carbon Units (tCO2e)", "carbon_tonnes", _int, "ND5"),
    TapeField("Pledged Carbon Value", "carbon_value", _money, "ND5"),
)


def tape_cell(f: TapeField, record: dict) -> str:
    value = record.get(f.key)
    if value is None or value == "":
        return f.nd
    if isinstance(value, str) and value in ND_CODES:
        return value
    return f.fmt(value)


def write_loan_tape(records: Iterable[dict], out: TextIO, fields: tuple[TapeField, ...] = TAPE_FIELDS) -> int:
    """Write the tape to ``out``; returns the number of loans written."""
    writer = downloads.writer(out, lineterminator="\r\n")
    writer.writerow([f.header for f in fields])
    count = 0
    for record in records:
        writer.writerow([tape_cell(f, record) for f in fields])
        count += 1
    return count


def loan_tape_csv(records: Iterable[dict], fields: tuple[TapeField, ...] = TAPE_FIELDS) -> str:
    buf = io.StringIO()
    write_loan_tape(records, buf, fields)
    return buf.getvalue()


def read_loan_tape(text: str) -> list[dict[str, str]]:
    """Parse a tape back (tests, re-imports): one dict per row, keyed by header."""
    return list(csv.DictReader(io.StringIO(text)))


def nd_code_of(cell: str) -> Optional[str]:
    return cell if cell in ND_CODES else None
