"""Lending's published reader of booked loans: ``loan_facts(loan_ids, as_of)``.

Other packages (asset pools first) read loans only through this contract, re-exported by
``greenfin.lending.services``; they never import lending's models. A ``LoanFacts`` is a frozen
snapshot of one loan at ``as_of``: what it is (product, rate, term, dates, use of proceeds,
borrower), what it owes (``balance``), how late it is (``days_past_due``, lending's one rule:
``servicing.days_past_due_of``) and its status then, with its repayment history so a reader can
ask for the same facts on another day (``facts.on(day)``) without another query.

Loans are read in bulk: one query for the loans with their borrower and product and one each
for their instalments, repayments and collateral, whatever the number of loans.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Iterable, Optional

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from greenfin import dates
from greenfin.extensions import db
from greenfin.lending import links
from greenfin.lending.models import Loan, LoanProduct
from greenfin.lending.servicing import days_past_due_of

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class InstalmentFact:
    seq: int
    due_date: date
    principal_due: Decimal
    total_due: Decimal


@dataclass(frozen=True)
class RepaymentFact:
    received_on: date
    amount: Decimal
    fee_part: Decimal
    interest_part: Decimal
    principal_part: Decimal
    # (seq, amount paid to the instalment, of which principal)
    allocation: tuple[tuple[int, Decimal, Decimal], ...]
    source: str = "borrower"  # or "insurance": an index payout to the lender as loss payee


@dataclass(frozen=True)
class LoanFacts:
    """One booked loan at ``as_of``. Money is Decimal yuan; ``annual_rate`` an annual decimal."""

    loan_id: int
    number: str
    party_id: int
    party_name: Optional[str]
    township_code: Optional[str]
    sector: Optional[str]
    product_code: str
    amortisation: str
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    disbursed_on: date
    maturity_date: date
    green_category: Optional[str]  # the use-of-proceeds tag, None when untagged
    collateral_value: Optional[Decimal]  # lendable value at origination, None without collateral
    collateral_gep: Optional[Decimal]  # GEP (yuan a year) of the pledged parcels now
    colour: Optional[str]  # the borrower's published eco-credit colour now
    loan_status: str  # as stored now: active, repaid or written_off
    outstanding_principal: Decimal  # as stored now
    defaulted_on: Optional[date]
    closed_on: Optional[date]
    written_off_amount: Optional[Decimal]
    instalments: tuple[InstalmentFact, ...]
    repayments: tuple[RepaymentFact, ...]
    # as of ``as_of``
    as_of: Optional[date] = None
    balance: Decimal = ZERO
    days_past_due: int = 0
    status: str = ""
    remaining_term: int = 0

    def on(self, day: date) -> "LoanFacts":
        """The same loan's facts at ``day``."""
        balance = self._balance(day)
        dpd = self._days_past_due(day)
        return replace(self, as_of=day, balance=balance, days_past_due=dpd, status=self._status(day, balance, dpd),
                       remaining_term=self._remaining_term(day))

    def _written_off_by(self, day: date) -> bool:
        return self.loan_status == "written_off" and self.closed_on is not None and self.closed_on <= day

    def _balance(self, day: date) -> Decimal:
        """Outstanding principal at the end of ``day`` from the repayments and the write-off."""
        if day >= dates.today():
            return self.outstanding_principal
        if day < self.disbursed_on:
            return ZERO
        paid = sum((r.principal_part for r in self.repayments if r.received_on <= day), ZERO)
        written = (self.written_off_amount or ZERO) if self._written_off_by(day) else ZERO
        return max(ZERO, self.principal - paid - written)

    def _days_past_due(self, day: date) -> int:
        """Lending's rule on the instalments as they stood at the end of ``day``."""
        paid: dict[int, Decimal] = {}
        for rep in self.repayments:
            if rep.received_on <= day:
                for seq, amount, _principal in rep.allocation:
                    paid[seq] = paid.get(seq, ZERO) + amount
        return days_past_due_of(((i.due_date, i.total_due - paid.get(i.seq, ZERO)) for i in self.instalments), day)

    def _status(self, day: date, balance: Decimal, dpd: int) -> str:
        if day < self.disbursed_on:
            return "not_disbursed"
        if self._written_off_by(day):
            return "written_off"
        if balance <= 0:
            return "repaid"
        if self.defaulted_on is not None and self.defaulted_on <= day:
            return "defaulted"
        return "delinquent" if dpd > 0 else "performing"

    def _remaining_term(self, day: date) -> int:
        """Whole months from ``day`` to maturity, a part month counting as one (at least 1)."""
        m = self.maturity_date
        return max(1, (m.year - day.year) * 12 + (m.month - day.month) + (1 if m.day > day.day else 0))


def _collateral_gep(loan: Loan) -> Optional[Decimal]:
    """GEP of the parcels pledged for the loan: their latest accounts, else the value at origination."""
    total, found = ZERO, False
    for pledge in loan.collateral:
        if pledge.status not in ("pledged", "enforced"):
            continue
        gep = links.parcel_gep(pledge.parcel_id)
        value = gep.value if gep is not None else pledge.gep_value
        if value is not None:
            total, found = total + Decimal(value), True
    if found:
        return total.quantize(CENT)
    return loan.collateral_gep if loan.collateral_gep else None


def _facts(loan: Loan, colour: Optional[str]) -> LoanFacts:
    party = loan.party
    return LoanFacts(
        loan_id=loan.id, number=loan.number, party_id=loan.party_id, party_name=party.name if party else None,
        township_code=party.township_code if party else None, sector=party.sector if party else None,
        product_code=loan.product.code, amortisation=loan.amortisation, principal=loan.principal,
        annual_rate=loan.annual_rate, term_months=loan.term_months, disbursed_on=loan.disbursed_on,
        maturity_date=loan.maturity_date, green_category=(loan.green_category or "").strip() or None,
        collateral_value=loan.collateral_value if loan.collateral_value and loan.collateral_value > 0 else None,
        collateral_gep=_collateral_gep(loan), colour=colour, loan_status=loan.status,
        outstanding_principal=loan.outstanding_principal, defaulted_on=loan.defaulted_on, closed_on=loan.closed_on,
        written_off_amount=loan.written_off_amount,
        instalments=tuple(InstalmentFact(i.seq, i.due_date, i.principal_due, i.total_due) for i in loan.instalments),
        repayments=tuple(RepaymentFact(
            r.received_on, r.amount, r.fee_part, r.interest_part, r.principal_part,
            tuple((int(p.get("seq", 0)), sum((Decimal(str(p.get(k, "0"))) for k in ("fee", "interest", "principal")),
                                             ZERO), Decimal(str(p.get("principal", "0")))) for p in r.allocation or []),
            r.source or "borrower")
            for r in loan.repayments),
    )


def loan_facts(loan_ids: Iterable[int], as_of: Optional[date] = None) -> dict[int, LoanFacts]:
    """The facts of each named loan at ``as_of`` (default: the business date), by id.

    Unknown ids are left out: a caller that needs every loan checks the keys.
    """
    ids = {i for i in loan_ids if isinstance(i, int) and not isinstance(i, bool)}
    if not ids:
        return {}
    as_of = as_of or dates.today()
    loans = db.session.scalars(select(Loan).where(Loan.id.in_(ids)).options(
        selectinload(Loan.instalments), selectinload(Loan.repayments), selectinload(Loan.collateral)))
    colours: dict[int, Optional[str]] = {}
    out = {}
    for loan in loans:
        if loan.party_id not in colours:
            colours[loan.party_id] = links.current_colour(loan.party_id)
        out[loan.id] = _facts(loan, colours[loan.party_id]).on(as_of)
    return out


def active_loan_ids(excluding: Optional[Select] = None) -> Select:
    """A query of the ids of active loans, by id, less those ``excluding`` selects."""
    stmt = select(Loan.id).where(Loan.status == "active").order_by(Loan.id)
    return stmt.where(Loan.id.not_in(excluding)) if excluding is not None else stmt


def pledged_loans(parcel_ids: Iterable[int]) -> dict[int, int]:
    """{parcel id: loan id} for the parcels pledged to an active loan (the loss payee of its cover)."""
    from greenfin.lending.models import CollateralPledge

    ids = {i for i in parcel_ids if isinstance(i, int)}
    if not ids:
        return {}
    rows = db.session.execute(select(CollateralPledge.parcel_id, Loan.id).join(Loan, Loan.id == CollateralPledge.loan_id)
                              .where(CollateralPledge.parcel_id.in_(ids), CollateralPledge.status == "pledged",
                                     Loan.status == "active"))
    return {parcel_id: loan_id for parcel_id, loan_id in rows}


def party_loan_ids(party_id: int) -> list[int]:
    """The ids of the party's booked loans."""
    return list(db.session.scalars(select(Loan.id).where(Loan.party_id == party_id).order_by(Loan.id)))


def product_names(locale: str = "zh") -> dict[str, str]:
    """Loan product names by code, in the locale."""
    return {p.code: p.name(locale) for p in db.session.scalars(select(LoanProduct))}
