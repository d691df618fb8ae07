"""Loan-level cash-flow projection, vectorised with numpy, and the pool's monthly totals.

Every loan is one element of a few arrays (balance, annual rate, remaining term in
months, amortisation type); the projection steps month by month and does every
loan of the pool at once, so 100,000 loans over 360 months take well under a
second. Conventions (the Bond Market Association's standard prepayment and
default model, as used by Chinese credit-ABS offering circulars):

- CPR and CDR are annual rates, turned into single monthly rates
  ``SMM = 1 - (1 - CPR) ** (1/12)`` and ``MDR = 1 - (1 - CDR) ** (1/12)``.
- In month t a loan first defaults at MDR on its opening balance; the surviving
  balance pays interest (annual rate / 12), its scheduled principal, and then
  prepays SMM of what remains after the scheduled principal.
- A default is liquidated ``recovery_lag`` months later: ``(1 - severity)`` of it
  comes back as a recovery and ``severity`` of it is the realised loss. Until then
  it stays in the collateral as a pending (non-performing) balance.
- Amortisation types: ``annuity`` (等额本息, level payment), ``linear`` (等额本金,
  equal principal) and ``bullet`` (按月付息到期还本, interest monthly, principal at
  maturity).

CPR, CDR, severity and the recovery lag are each a constant or a vector by month
(a shorter vector is extended with its last value).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np

AMORTISATION_TYPES = ("annuity", "linear", "bullet")
ANNUITY, LINEAR, BULLET = 0, 1, 2
MAX_MONTHS = 600

Rate = Union[float, Sequence[float], np.ndarray]


class AssumptionError(ValueError):
    """Bad input to the projection; ``field`` names the offending input."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LoanArrays:
    """The loans of a pool as parallel arrays (one element per loan)."""

    balance: np.ndarray          # current principal balance, float64
    rate: np.ndarray             # annual interest rate as a fraction (0.045 = 4.5 %)
    remaining_term: np.ndarray   # whole months left, int64 >= 1
    amortisation: np.ndarray     # codes ANNUITY / LINEAR / BULLET, int8

    def __len__(self) -> int:
        return int(self.balance.shape[0])


def amortisation_code(value) -> int:
    if isinstance(value, (int, np.integer)) and 0 <= int(value) < len(AMORTISATION_TYPES):
        return int(value)
    try:
        return AMORTISATION_TYPES.index(str(value))
    except ValueError:
        raise AssumptionError("amortisation", f"unknown amortisation type {value!r}; one of "
                              + ", ".join(AMORTISATION_TYPES)) from None


def loan_arrays(balance, rate, remaining_term, amortisation="annuity") -> LoanArrays:
    """Validate and pack loan-level inputs. ``amortisation`` may be one name for all loans."""
    bal = np.asarray(balance, dtype=np.float64).ravel()
    n = bal.shape[0]
    rt = np.asarray(rate, dtype=np.float64).ravel()
    term = np.asarray(remaining_term).ravel()
    if isinstance(amortisation, (str, int)):
        amort = np.full(n, amortisation_code(amortisation), dtype=np.int8)
    else:
        raw = list(amortisation)
        amort = np.fromiter((amortisation_code(a) for a in raw), dtype=np.int8, count=len(raw))
    for name, arr in (("rate", rt), ("remaining_term", term), ("amortisation", amort)):
        if arr.shape[0] != n:
            raise AssumptionError(name, f"has {arr.shape[0]} values for {n} loans")
    if not np.all(np.isfinite(bal)) or np.any(bal < 0):
        raise AssumptionError("balance", "balances must be finite and not negative")
    if not np.all(np.isfinite(rt)) or np.any(rt < 0) or np.any(rt > 1):
        raise AssumptionError("rate", "interest rates must lie between 0 and 100%")
    term_f = term.astype(np.float64)
    if not np.all(np.isfinite(term_f)) or np.any(term_f != np.round(term_f)) or np.any(term_f < 1):
        raise AssumptionError("remaining_term", "remaining terms must be whole months, at least 1")
    if np.any(term_f > MAX_MONTHS):
        raise AssumptionError("remaining_term", f"remaining terms above {MAX_MONTHS} months are not supported")
    return LoanArrays(bal, rt, term_f.astype(np.int64), amort)


def monthly_vector(value: Rate, months: int, name: str, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """A constant or a by-month vector as exactly ``months`` values in [lo, hi]."""
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
    if arr.size == 0:
        raise AssumptionError(name, "needs at least one value")
    if not np.all(np.isfinite(arr)) or np.any(arr < lo) or np.any(arr > hi):
        raise AssumptionError(name, f"values must lie between {lo:g} and {hi:g}")
    if arr.size >= months:
        return arr[:months].copy()
    return np.concatenate([arr, np.full(months - arr.size, arr[-1])])


def monthly_rate(annual: np.ndarray) -> np.ndarray:
    """An annual conditional rate (CPR, CDR) as the equivalent single-month rate."""
    return 1.0 - np.power(1.0 - annual, 1.0 / 12.0)


@dataclass
class PoolProjection:
    """Monthly pool totals (index 0 is the first projected month)."""

    months: int
    balance_start: np.ndarray
    interest: np.ndarray
    scheduled_principal: np.ndarray
    prepayment: np.ndarray
    default: np.ndarray
    recovery: np.ndarray
    loss: np.ndarray
    balance_end: np.ndarray       # performing balance after the month
    pending_end: np.ndarray       # defaulted, not yet liquidated
    pending_recovery_end: np.ndarray  # what the pending defaults are expected to recover
    loan_level: Optional[dict[str, np.ndarray]] = field(default=None, repr=False)

    @property
    def collateral_end(self) -> np.ndarray:
        return self.balance_end + self.pending_end

    @property
    def collections(self) -> np.ndarray:
        return self.interest + self.scheduled_principal + self.prepayment + self.recovery

    @property
    def opening_balance(self) -> float:
        return float(self.balance_start[0]) if self.months else 0.0

    def wal_years(self) -> Optional[float]:
        """Weighted average life of the principal returned (scheduled, prepaid, recovered)."""
        principal = self.scheduled_principal + self.prepayment + self.recovery
        total = principal.sum()
        if total <= 0:
            return None
        return float((np.arange(1, self.months + 1) * principal).sum() / total / 12.0)

    def rows(self) -> list[dict]:
        out = []
        for t in range(self.months):
            out.append({
                "month": t + 1,
                "balance_start": float(self.balance_start[t]),
                "interest": float(self.interest[t]),
                "scheduled_principal": float(self.scheduled_principal[t]),
                "prepayment": float(self.prepayment[t]),
                "default": float(self.default[t]),
                "recovery": float(self.recovery[t]),
                "loss": float(self.loss[t]),
                "balance_end": float(self.balance_end[t]),
                "pending_end": float(self.pending_end[t]),
            })
        return out


def default_horizon(loans: LoanArrays, recovery_lag: Rate = 0) -> int:
    lag = int(np.max(np.atleast_1d(np.asarray(recovery_lag, dtype=np.float64)))) if np.size(recovery_lag) else 0
    longest = int(loans.remaining_term.max()) if len(loans) else 1
    return max(1, min(MAX_MONTHS, longest + max(0, lag)))


def project_pool(loans: LoanArrays, months: Optional[int] = None, *, cpr: Rate = 0.0, cdr: Rate = 0.0,
                 severity: Rate = 0.0, recovery_lag: Rate = 0, loan_level: bool = False) -> PoolProjection:
    """Project every loan month by month and return the pool's monthly totals.

    With ``loan_level=True`` the result also holds (months, loans) arrays of each
    loan's interest, scheduled principal, prepayment, default and closing balance
    (meant for small pools and tests: 8 bytes x months x loans per series).
    """
    if months is None:
        months = default_horizon(loans, recovery_lag)
    if not isinstance(months, (int, np.integer)) or isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise AssumptionError("months", f"must be a whole number from 1 to {MAX_MONTHS}")
    months = int(months)
    smm = monthly_rate(monthly_vector(cpr, months, "cpr"))
    mdr = monthly_rate(monthly_vector(cdr, months, "cdr"))
    sev = monthly_vector(severity, months, "severity")
    lag = monthly_vector(recovery_lag, months, "recovery_lag", 0, MAX_MONTHS)
    if np.any(lag != np.round(lag)):
        raise AssumptionError("recovery_lag", "must be whole months")
    lag = lag.astype(np.int64)

    n = len(loans)
    # Loans sorted by amortisation type, so each type is one contiguous slice.
    order = np.argsort(loans.amortisation, kind="stable")
    b = loans.balance[order].copy()
    m = loans.remaining_term[order].astype(np.float64)
    r = loans.rate[order] / 12.0
    amort = loans.amortisation[order]
    # (1 + r) ** -m, updated by one multiplication a month instead of a power.
    v_m = np.power(1.0 + r, -m)
    growth = 1.0 + r

    series = {k: np.zeros(months) for k in ("balance_start", "interest", "scheduled_principal", "prepayment",
                                              "default", "balance_end")}
    level = {k: np.zeros((months, n)) for k in ("interest", "scheduled_principal", "prepayment", "default",
                                                "balance_end")} if loan_level else None

    for t in range(months):
        if not loan_level and t % 12 == 0 and t:
            keep = m > 0.0  # drop matured loans now and then; their balance is zero
            if keep.sum() < 0.85 * keep.size:
                b, m, r, amort, v_m, growth = b[keep], m[keep], r[keep], amort[keep], v_m[keep], growth[keep]
        if b.size == 0:
            break
        bounds = np.searchsorted(amort, [ANNUITY, LINEAR, BULLET, BULLET + 1])
        series["balance_start"][t] = b.sum()
        d = b * mdr[t]
        b -= d
        interest = b * r
        # Scheduled principal per unit of surviving balance, by amortisation type.
        coef = np.empty_like(b)
        a0, a1 = bounds[0], bounds[1]
        if a1 > a0:
            ra, va = r[a0:a1], v_m[a0:a1]
            with np.errstate(divide="ignore", invalid="ignore"):
                c = ra / (1.0 - va) - ra
            zero = ra == 0.0
            if zero.any():
                c[zero] = 1.0 / np.maximum(m[a0:a1][zero], 1.0)
            coef[a0:a1] = c
        if bounds[2] > a1:
            coef[a1:bounds[2]] = 1.0 / np.maximum(m[a1:bounds[2]], 1.0)
        coef[bounds[2]:bounds[3]] = 0.0
        coef[m <= 1.0] = 1.0
        sched = b * coef
        b -= sched
        prepay = b * smm[t]
        b -= prepay
        m -= 1.0
        v_m *= growth
        series["interest"][t] = interest.sum()
        series["scheduled_principal"][t] = sched.sum()
        series["prepayment"][t] = prepay.sum()
        series["default"][t] = d.sum()
        series["balance_end"][t] = b.sum()
        if level is not None:
            level["interest"][t, order] = interest
            level["scheduled_principal"][t, order] = sched
            level["prepayment"][t, order] = prepay
            level["default"][t, order] = d
            level["balance_end"][t, order] = b

    # Liquidation of defaults: pool level, after `lag` months.
    defaults = series["default"]
    recovery = np.zeros(months)
    loss = np.zeros(months)
    pending_add = defaults.copy()
    pending_rec_add = defaults * (1.0 - sev)
    pending_sub = np.zeros(months)
    pending_rec_sub = np.zeros(months)
    when = np.arange(months) + lag
    inside = when < months
    np.add.at(recovery, when[inside], (defaults * (1.0 - sev))[inside])
    np.add.at(loss, when[inside], (defaults * sev)[inside])
    np.add.at(pending_sub, when[inside], defaults[inside])
    np.add.at(pending_rec_sub, when[inside], pending_rec_add[inside])
    pending_end = np.cumsum(pending_add - pending_sub)
    pending_recovery_end = np.cumsum(pending_rec_add - pending_rec_sub)
    # Cumulative sums of equal amounts leave rounding dust; a pending balance is never negative.
    pending_end[np.abs(pending_end) < 1e-9] = 0.0
    pending_recovery_end[np.abs(pending_recovery_end) < 1e-9] = 0.0
    return PoolProjection(
        months=months, balance_start=series["balance_start"], interest=series["interest"],
        scheduled_principal=series["scheduled_principal"], prepayment=series["prepayment"],
        default=defaults, recovery=recovery, loss=loss, balance_end=series["balance_end"],
        pending_end=pending_end, pending_recovery_end=pending_recovery_end, loan_level=level,
    )


def scheduled_principal_wal(loans: LoanArrays) -> Optional[float]:
    """WAL in years of the contractual schedule (no prepayments, no defaults)."""
    return project_pool(loans).wal_years()
