"""The tranche waterfall: fees, interest, reserve, principal, triggers, clean-up call, losses.

It runs month by month over a pool projection (``cashflow.PoolProjection``). One
account collects everything the pool pays in a month (interest, scheduled and
prepaid principal, recoveries, and the call price in the month of the clean-up
call) and pays, in this order:

1. fees: the servicer fee (annual rate x opening collateral / 12) and fixed
   monthly fees (trustee, rating, ...), with any unpaid fees of earlier months;
2. interest of the senior, then of the mezzanine tranche (coupon / 12 x opening
   balance, plus unpaid interest carried forward). Shortfalls of 1 and 2 are drawn
   from the reserve account;
3. the reserve account, topped up to its target (a share of the senior and
   mezzanine balance);
4. principal: the principal distribution amount is what brings the notes down to
   the collateral less the initial over-collateralisation, so excess spread also
   covers realised losses. Paid pro rata over all tranches while no trigger has
   been breached (when the structure asks for pro rata), else sequentially
   (senior, mezzanine, subordinated);
5. interest of the subordinated tranche, if it has a coupon;
6. the residual, to the subordinated tranche (the equity) or, without one, the
   originator.

After paying, notes above the remaining collateral are written down from the
bottom up: subordinated first, then mezzanine, then senior.

Triggers, tested every month and sticky once breached (then principal is
sequential to the end): OC = (collateral at the month end + principal collected in
the month) / (senior + mezzanine balance before payments) below ``oc_trigger``; IC = (interest collections - fees due) / (senior + mezzanine
interest due) below ``ic_trigger``.

The clean-up call is exercised in the first month the collateral falls to
``cleanup_call`` x the original collateral or below: the performing balance is
bought at par and pending defaults at their expected recovery, and the deal ends.

Cash is conserved every month: collections = fees + interest + principal + residual
+ (reserve at the end - reserve at the start).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import numpy_financial as npf

from greenfin.pools.cashflow import AssumptionError, PoolProjection

TRANCHE_KINDS = ("senior", "mezzanine", "subordinated")
EPS = 1e-6


@dataclass(frozen=True)
class Tranche:
    name: str
    kind: str         # senior / mezzanine / subordinated
    balance: float    # original balance
    coupon: float     # annual, fraction; 0 for an equity-like subordinated tranche

    @property
    def rated(self) -> bool:
        return self.kind in ("senior", "mezzanine")


@dataclass(frozen=True)
class Structure:
    tranches: tuple[Tranche, ...]
    servicer_fee: float = 0.005       # annual, on the opening collateral balance
    fixed_fees: float = 0.0           # per month
    principal_mode: str = "sequential"  # or "pro_rata"
    oc_trigger: Optional[float] = None  # e.g. 1.05
    ic_trigger: Optional[float] = None  # e.g. 1.10
    reserve_initial: float = 0.0
    reserve_target: float = 0.0       # share of the senior + mezzanine balance
    cleanup_call: float = 0.10        # share of the original collateral; 0 = no call

    def validate(self, collateral: float) -> None:
        if not self.tranches:
            raise AssumptionError("tranches", "at least one tranche is needed")
        order = [TRANCHE_KINDS.index(t.kind) if t.kind in TRANCHE_KINDS else -1 for t in self.tranches]
        if -1 in order:
            raise AssumptionError("tranches", "each tranche is senior, mezzanine or subordinated")
        if order != sorted(order):
            raise AssumptionError("tranches", "tranches must be listed senior first, subordinated last")
        if sum(1 for t in self.tranches if t.kind == "subordinated") > 1:
            raise AssumptionError("tranches", "at most one subordinated tranche")
        names = [t.name for t in self.tranches]
        if len(set(names)) != len(names):
            raise AssumptionError("tranches", "tranche names must differ")
        for t in self.tranches:
            if not np.isfinite(t.balance) or t.balance <= 0:
                raise AssumptionError("tranches", f"tranche {t.name}: balance must be above 0")
            if not np.isfinite(t.coupon) or not 0 <= t.coupon <= 1:
                raise AssumptionError("tranches", f"tranche {t.name}: coupon must lie between 0 and 100%")
        total = sum(t.balance for t in self.tranches)
        if total > collateral * (1 + 1e-9) + EPS:
            raise AssumptionError("tranches", "the tranches add up to more than the collateral")
        for name in ("servicer_fee", "reserve_target", "cleanup_call"):
            value = getattr(self, name)
            if not np.isfinite(value) or not 0 <= value <= 1:
                raise AssumptionError(name, "must lie between 0 and 100%")
        for name in ("fixed_fees", "reserve_initial"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise AssumptionError(name, "must not be negative")
        for name in ("oc_trigger", "ic_trigger"):
            value = getattr(self, name)
            if value is not None and (not np.isfinite(value) or not 0 < value <= 10):
                raise AssumptionError(name, "must lie above 0 and at most 10")
        if self.principal_mode not in ("sequential", "pro_rata"):
            raise AssumptionError("principal_mode", "sequential or pro_rata")


def standard_structure(collateral: float, *, senior: float = 0.80, mezzanine: float = 0.10,
                       subordinated: float = 0.08, senior_coupon: float = 0.028, mezzanine_coupon: float = 0.038,
                       **options) -> Structure:
    """A typical Chinese credit-ABS split (优先A / 优先B / 次级) with the rest as over-collateralisation."""
    tranches = []
    for name, kind, share, coupon in (("A", "senior", senior, senior_coupon), ("B", "mezzanine", mezzanine, mezzanine_coupon),
                                      ("C", "subordinated", subordinated, 0.0)):
        balance = round(collateral * share, 2)
        if balance > 0:
            tranches.append(Tranche(name, kind, balance, coupon))
    return Structure(tuple(tranches), **options)


@dataclass
class TrancheResult:
    name: str
    kind: str
    original_balance: float
    coupon: float
    interest: np.ndarray
    principal: np.ndarray
    writedown: np.ndarray
    residual: np.ndarray
    balance_end: np.ndarray
    interest_shortfall_end: float = 0.0

    @property
    def cash_flows(self) -> np.ndarray:
        return self.interest + self.principal + self.residual

    @property
    def losses(self) -> float:
        return float(self.writedown.sum())

    @property
    def wal_years(self) -> Optional[float]:
        total = self.principal.sum()
        if total <= EPS:
            return None
        return float((np.arange(1, self.principal.size + 1) * self.principal).sum() / total / 12.0)

    @property
    def irr(self) -> Optional[float]:
        """Annual yield of buying at par and receiving the tranche's cash flows."""
        cash = self.cash_flows
        if cash.sum() <= EPS:
            return -1.0
        last = int(np.nonzero(cash > EPS)[0][-1]) + 1
        flows = np.concatenate([[-self.original_balance], cash[:last]])
        monthly = npf.irr(flows)
        if monthly is None or not np.isfinite(monthly):
            return None
        return float((1.0 + monthly) ** 12 - 1.0)

    def summary(self) -> dict:
        return {"name": self.name, "kind": self.kind, "original_balance": self.original_balance,
                "coupon": self.coupon, "interest": float(self.interest.sum()),
                "principal": float(self.principal.sum()), "residual": float(self.residual.sum()),
                "losses": self.losses, "balance_end": float(self.balance_end[-1]) if self.balance_end.size else 0.0,
                "wal_years": self.wal_years, "irr": self.irr}


@dataclass
class WaterfallResult:
    months: int
    collections: np.ndarray
    call_proceeds: np.ndarray
    fees: np.ndarray
    reserve_start: np.ndarray
    reserve_end: np.ndarray
    residual_to_originator: np.ndarray
    oc_ratio: np.ndarray
    ic_ratio: np.ndarray
    trigger_breached: np.ndarray
    sequential: np.ndarray
    collateral_end: np.ndarray
    tranches: list[TrancheResult] = field(default_factory=list)
    call_month: Optional[int] = None   # 1-based month of the clean-up call

    def tranche(self, name: str) -> TrancheResult:
        return next(t for t in self.tranches if t.name == name)

    def rows(self) -> list[dict]:
        """One row a month. Every row reconciles: collections (the call proceeds included) =
        fees + each tranche's interest and principal + reserve_change + residual."""
        residual = self.residual_to_originator + sum((tr.residual for tr in self.tranches), np.zeros(self.months))
        out = []
        for t in range(self.months):
            row = {"month": t + 1, "collections": float(self.collections[t]),
                   "call_proceeds": float(self.call_proceeds[t]), "fees": float(self.fees[t])}
            for tr in self.tranches:
                row[f"{tr.name}_interest"] = float(tr.interest[t])
                row[f"{tr.name}_principal"] = float(tr.principal[t])
                row[f"{tr.name}_writedown"] = float(tr.writedown[t])
                row[f"{tr.name}_balance"] = float(tr.balance_end[t])
            row |= {"reserve_change": float(self.reserve_end[t] - self.reserve_start[t]),
                    "reserve_end": float(self.reserve_end[t]),
                    # excess spread released: to the subordinated tranche, or the originator without one
                    "residual": float(residual[t]),
                    "trigger_breached": bool(self.trigger_breached[t]),
                    "principal_mode": "sequential" if self.sequential[t] else "pro_rata"}
            out.append(row)
        return out


def run_waterfall(projection: PoolProjection, structure: Structure) -> WaterfallResult:
    """Pay the pool's monthly collections through the structure (see the module docstring)."""
    T = projection.months
    collateral0 = projection.opening_balance
    structure.validate(collateral0)
    tranches = structure.tranches
    k = len(tranches)
    coupon = np.array([t.coupon for t in tranches])
    rated = np.array([t.rated for t in tranches])
    sub_index = next((i for i, t in enumerate(tranches) if t.kind == "subordinated"), None)
    bal = np.array([t.balance for t in tranches], dtype=np.float64)
    oc_target = max(0.0, collateral0 - bal.sum())

    interest_paid = np.zeros((k, T))
    principal_paid = np.zeros((k, T))
    writedown = np.zeros((k, T))
    residual = np.zeros((k, T))
    balance_end = np.zeros((k, T))
    fees = np.zeros(T)
    collections = np.zeros(T)
    call_proceeds = np.zeros(T)
    reserve_start = np.zeros(T)
    reserve_end = np.zeros(T)
    to_originator = np.zeros(T)
    oc_ratio = np.full(T, np.nan)
    ic_ratio = np.full(T, np.nan)
    breached = np.zeros(T, dtype=bool)
    sequential = np.zeros(T, dtype=bool)
    collateral_end = np.zeros(T)

    reserve = structure.reserve_initial
    unpaid_fees = 0.0
    unpaid_interest = np.zeros(k)
    trigger_hit = False
    call_month: Optional[int] = None
    collateral_begin = collateral0
    months_run = T

    for t in range(T):
        reserve_start[t] = reserve
        cash = float(projection.collections[t])
        coll_end = float(projection.collateral_end[t])
        # Clean-up call: buy the performing loans at par and the defaults at their expected recovery.
        called = (structure.cleanup_call > 0 and coll_end <= structure.cleanup_call * collateral0 + EPS
                  and coll_end > EPS)
        if called:
            proceeds = float(projection.balance_end[t] + projection.pending_recovery_end[t])
            call_proceeds[t] = proceeds
            cash += proceeds
            coll_end = 0.0
            call_month = t + 1
        collections[t] = cash
        final = coll_end <= EPS
        if final:  # the last month: the reserve is released into the available funds
            cash += reserve
            reserve = 0.0

        def pay(amount: float, from_reserve: bool) -> float:
            nonlocal cash, reserve
            paid = min(amount, cash)
            cash -= paid
            if from_reserve and paid < amount:
                extra = min(amount - paid, reserve)
                reserve -= extra
                paid += extra
            return paid

        # 1. fees
        fees_due = structure.servicer_fee / 12.0 * collateral_begin + structure.fixed_fees + unpaid_fees
        fees[t] = pay(fees_due, True)
        unpaid_fees = fees_due - fees[t]
        # Triggers (tested on this month's figures, sticky once breached).
        rated_bal = float(bal[rated].sum())
        rated_interest_due = float((coupon[rated] / 12.0 * bal[rated]).sum())
        if rated_bal > EPS:
            # Collateral at the month end plus the principal collected in it (not yet passed to the notes).
            covered = float(projection.collateral_end[t] + projection.scheduled_principal[t]
                            + projection.prepayment[t] + projection.recovery[t])
            oc_ratio[t] = covered / rated_bal
            if rated_interest_due > EPS:
                ic_ratio[t] = (float(projection.interest[t]) - fees_due) / rated_interest_due
            if structure.oc_trigger is not None and oc_ratio[t] < structure.oc_trigger:
                trigger_hit = True
            if structure.ic_trigger is not None and np.isfinite(ic_ratio[t]) and ic_ratio[t] < structure.ic_trigger:
                trigger_hit = True
        breached[t] = trigger_hit
        sequential[t] = structure.principal_mode == "sequential" or trigger_hit
        # 2. senior and mezzanine interest
        opening = bal.copy()
        due = coupon / 12.0 * opening + unpaid_interest
        for i in range(k):
            if rated[i]:
                interest_paid[i, t] = pay(due[i], True)
                unpaid_interest[i] = due[i] - interest_paid[i, t]
        # 3. reserve top-up
        if not final:
            target = structure.reserve_target * rated_bal
            if reserve < target:
                top = min(target - reserve, cash)
                cash -= top
                reserve += top
            elif reserve > target:  # the reserve amortises with the notes: release the excess
                cash += reserve - target
                reserve = target
        # 4. principal
        pda = max(0.0, opening.sum() - max(0.0, coll_end - oc_target))
        available = min(pda, cash)
        cash -= available
        alloc = np.zeros(k)
        if not sequential[t] and opening.sum() > EPS:
            alloc = np.minimum(available * opening / opening.sum(), opening)
            available -= alloc.sum()
        for i in range(k):
            extra = min(available, opening[i] - alloc[i])
            alloc[i] += extra
            available -= extra
        cash += available  # cannot happen (pda <= balances) but keeps the books exact
        principal_paid[:, t] = alloc
        bal = opening - alloc
        # 5. subordinated interest
        for i in range(k):
            if not rated[i]:
                interest_paid[i, t] = pay(due[i], False)
                unpaid_interest[i] = due[i] - interest_paid[i, t]
        # 6. residual
        if sub_index is not None:
            residual[sub_index, t] = cash
        else:
            to_originator[t] = cash
        cash = 0.0
        # Losses: notes above the collateral are written down from the bottom up.
        excess = bal.sum() - coll_end
        for i in range(k - 1, -1, -1):
            if excess <= EPS:
                break
            cut = min(excess, bal[i])
            writedown[i, t] = cut
            bal[i] -= cut
            excess -= cut
        bal[bal < EPS] = 0.0
        balance_end[:, t] = bal
        reserve_end[t] = reserve
        collateral_end[t] = coll_end
        collateral_begin = coll_end
        if final:
            months_run = t + 1
            break

    def cut(a):
        return a[..., :months_run]

    results = [
        TrancheResult(name=tr.name, kind=tr.kind, original_balance=tr.balance, coupon=tr.coupon,
                      interest=interest_paid[i, :months_run], principal=principal_paid[i, :months_run],
                      writedown=writedown[i, :months_run], residual=residual[i, :months_run],
                      balance_end=balance_end[i, :months_run], interest_shortfall_end=float(unpaid_interest[i]))
        for i, tr in enumerate(tranches)
    ]
    return WaterfallResult(
        months=months_run, collections=cut(collections), call_proceeds=cut(call_proceeds), fees=cut(fees),
        reserve_start=cut(reserve_start), reserve_end=cut(reserve_end), residual_to_originator=cut(to_originator),
        oc_ratio=cut(oc_ratio), ic_ratio=cut(ic_ratio), trigger_breached=cut(breached), sequential=cut(sequential),
        collateral_end=cut(collateral_end), tranches=results, call_month=call_month,
    )


def tranche_table(result: WaterfallResult) -> list[dict]:
    return [t.summary() for t in result.tranches]


def parse_tranches(items: Sequence[dict]) -> tuple[Tranche, ...]:
    """Tranches from plain dicts ({"name", "kind", "balance", "coupon"})."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Tranche(str(item["name"]), str(item["kind"]), float(item["balance"]), float(item.get("coupon", 0))))
        except (KeyError, TypeError, ValueError):
            raise AssumptionError("tranches", f"tranche {i + 1}: name, kind, balance and coupon are required") from None
    return tuple(out)
