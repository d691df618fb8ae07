"""Repayment schedules and payment allocation: pure functions on Decimal, no database.

Interest accrues monthly at ``annual_rate / 12`` on the opening balance of each month
(a simple 30/360-style convention, stated on the decision letter). Every amount is
rounded to the cent (ROUND_HALF_UP); the last instalment takes whatever principal is
left, so principal due always sums to the amount exactly and no balance goes negative.

Methods:
- ``annuity``: equal instalments, ``round(pmt, 2)`` (numpy-financial's ``pmt``).
- ``equal_principal``: ``round(P / n, 2)`` principal a month plus interest on the balance.
- ``interest_only``: interest monthly, the whole principal at maturity (balloon).
- ``seasonal``: instalments only in harvest months (and at maturity); each pays the
  interest accrued since the previous instalment and an equal share of principal.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional, Sequence

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass
class Line:
    seq: int
    due_date: date
    opening_balance: Decimal
    principal: Decimal
    interest: Decimal
    fee: Decimal = ZERO
    closing_balance: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


def annuity_payment(amount: Decimal, monthly_rate: Decimal, n: int) -> Decimal:
    """The level payment that repays ``amount`` in ``n`` months (positive, unrounded)."""
    if monthly_rate == 0:
        return amount / n
    factor = (1 + monthly_rate) ** n
    return amount * monthly_rate * factor / (factor - 1)


def build_schedule(amount: Decimal, annual_rate: Decimal, term_months: int, method: str, start: date, *,
                   harvest_months: Optional[Sequence[int]] = None, fee: Decimal = ZERO) -> list[Line]:
    """The schedule of a loan of ``amount`` disbursed on ``start``.

    ``fee`` (an arrangement fee) falls due with the first instalment.
    """
    amount, annual_rate, fee = cents(Decimal(amount)), Decimal(annual_rate), cents(Decimal(fee))
    if amount <= 0:
        raise ValueError("amount must be positive")
    if term_months < 1:
        raise ValueError("term must be at least one month")
    if annual_rate < 0:
        raise ValueError("rate must not be negative")
    r = annual_rate / 12
    if method == "seasonal":
        lines = _seasonal(amount, r, term_months, start, harvest_months or [10, 11])
    else:
        lines = []
        balance = amount
        level = cents(annuity_payment(amount, r, term_months)) if method == "annuity" else None
        flat = cents(amount / term_months) if method == "equal_principal" else None
        for k in range(1, term_months + 1):
            interest = cents(balance * r)
            if k == term_months:
                principal = balance
            elif method == "annuity":
                principal = min(balance, max(ZERO, level - interest))
            elif method == "equal_principal":
                principal = min(balance, flat)
            elif method == "interest_only":
                principal = ZERO
            else:
                raise ValueError(f"unknown amortisation method '{method}'")
            lines.append(Line(k, add_months(start, k), balance, principal, interest, ZERO, balance - principal))
            balance -= principal
    if lines and fee > 0:
        lines[0].fee = fee
    return lines


def _seasonal(amount: Decimal, r: Decimal, term: int, start: date, harvest: Sequence[int]) -> list[Line]:
    months = [k for k in range(1, term + 1) if add_months(start, k).month in set(harvest)]
    if not months or months[-1] != term:
        months.append(term)
    n = len(months)
    share = cents(amount / n)
    lines, balance, previous = [], amount, 0
    for i, k in enumerate(months, start=1):
        elapsed = k - previous
        interest = cents(balance * r * elapsed)
        principal = balance if i == n else min(balance, share)
        lines.append(Line(i, add_months(start, k), balance, principal, interest, ZERO, balance - principal))
        balance -= principal
        previous = k
    return lines


# ---------------------------------------------------------------- allocation


@dataclass
class Due:
    """What is still owed on one instalment."""

    seq: int
    due_date: date
    fee: Decimal
    interest: Decimal
    principal: Decimal


@dataclass
class Allocation:
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO
    lines: dict[int, dict[str, Decimal]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.fee + self.interest + self.principal

    def add(self, seq: int, part: str, value: Decimal) -> None:
        if value <= 0:
            return
        setattr(self, part, getattr(self, part) + value)
        line = self.lines.setdefault(seq, {"fee": ZERO, "interest": ZERO, "principal": ZERO})
        line[part] += value


def allocate(amount: Decimal, dues: Iterable[Due], as_of: date) -> Allocation:
    """Split ``amount`` over what is owed: fees, then interest, then principal.

    Instalments already due on ``as_of`` come first (all their fees, then all their
    interest, then all their principal, oldest first); anything left prepays later
    instalments in order. Raises ValueError if ``amount`` exceeds everything owed.
    """
    amount = cents(Decimal(amount))
    if amount <= 0:
        raise ValueError("amount must be positive")
    dues = sorted(dues, key=lambda d: d.seq)
    owed = sum((d.fee + d.interest + d.principal for d in dues), ZERO)
    if amount > owed:
        raise ValueError(f"amount {amount} exceeds the {owed} owed")
    result = Allocation()
    left = amount
    due_now = [d for d in dues if d.due_date <= as_of]
    later = [d for d in dues if d.due_date > as_of]
    for part in ("fee", "interest", "principal"):
        for d in due_now:
            take = min(left, getattr(d, part))
            result.add(d.seq, part, take)
            left -= take
    for d in later:
        for part in ("fee", "interest", "principal"):
            take = min(left, getattr(d, part))
            result.add(d.seq, part, take)
            left -= take
    assert left == 0
    return result


def bucket_for(dpd: int) -> str:
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"
