"""Lending models: products, applications, collateral, model registry, scores, decisions,
loans, schedules and repayments.

Other packages do not import these models: they read loans through lending's published
``loan_facts`` (``facts.py``, re-exported by ``services.py``). Within lending:

- ``Loan`` is one booked loan. ``principal`` is the amount disbursed; ``outstanding_principal``
  is kept current by every repayment and write-off; ``days_past_due`` and ``bucket``
  (``current``, ``1-30``, ``31-60``, ``61-90``, ``90+``) are refreshed by
  ``servicing.refresh_delinquency(as_of)`` and after each repayment. ``green_category`` is the
  Green Loan Principles use-of-proceeds tag; ``eco_colour`` the borrower's eco-credit colour at
  origination; ``collateral_gep`` the pledged parcels' GEP (yuan) at origination.
- ``Instalment`` rows are the schedule: one per due date, ``principal_due`` + ``interest_due`` +
  ``fee_due`` = ``total_due``; the ``*_paid`` columns fill as repayments are allocated.
  Principal due sums to the loan principal to the cent (the last instalment absorbs rounding).
- ``Repayment`` rows are insert-only: one per receipt, with its split into fee, interest and
  principal and the per-instalment allocation in ``allocation``.
- ``CollateralPledge`` links a parcel to an application and, once booked, to its loan.

Money is ``Numeric(18, 2)`` (Decimal yuan); rates are annual decimals (``0.0435`` = 4.35%).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.models import Parcel, Party, User
from greenfin.job_model import Job
from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

Money = Numeric(18, 2)
Rate = Numeric(8, 6)

AMORTISATIONS = ("annuity", "equal_principal", "interest_only", "seasonal")
PRODUCT_KINDS = ("eco_credit", "forest_mortgage", "gep_pledge", "orchard", "carbon_pledge")
APPLICATION_STATUSES = ("submitted", "scored", "approved", "referred", "declined", "override_pending",
                        "booked", "withdrawn")
LIVE_APPLICATION_STATUSES = ("submitted", "scored", "approved", "referred", "override_pending")
OUTCOMES = ("approve", "refer", "decline")
LOAN_STATUSES = ("active", "repaid", "written_off")
PLEDGE_STATUSES = ("proposed", "pledged", "released", "enforced")
LIVE_PLEDGE_STATUSES = ("proposed", "pledged")
REPAYMENT_SOURCES = ("borrower", "insurance")
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


class LoanProduct(db.Model):
    """A loan product. Seeded; admins edit limits, rates and terms."""

    __tablename__ = "loan_products"
    __table_args__ = (
        CheckConstraint("min_amount > 0 and max_amount >= min_amount", name="amounts"),
        CheckConstraint("min_term_months > 0 and max_term_months >= min_term_months", name="terms"),
        CheckConstraint("min_rate >= 0 and max_rate >= min_rate", name="rates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    secured: Mapped[bool] = mapped_column(default=False)
    min_amount: Mapped[Decimal] = mapped_column(Money)
    max_amount: Mapped[Decimal] = mapped_column(Money)
    min_term_months: Mapped[int]
    max_term_months: Mapped[int]
    base_rate: Mapped[Decimal] = mapped_column(Rate)
    min_rate: Mapped[Decimal] = mapped_column(Rate)
    max_rate: Mapped[Decimal] = mapped_column(Rate)
    amortisation: Mapped[str] = mapped_column(String(16))
    # Secured products: the loan may not exceed this share of the appraised value (林权抵押: 0.60).
    max_ltv: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 4))
    # GEP pledge: the loan may not exceed this share of the pledged parcels' GEP.
    gep_share: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 4))
    # Unsecured eco-credit loan: the limit by eco-credit colour, {"green": "500000", ...}.
    limits_by_colour: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    # Seasonal products: calendar months in which harvest instalments fall, e.g. [10, 11].
    harvest_months: Mapped[Optional[list[int]]] = mapped_column(JSONType)
    # Land covers a pledged parcel must have (None: any).
    collateral_covers: Mapped[Optional[list[str]]] = mapped_column(JSONType)
    arrangement_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # Green Loan Principles (LMA/APLMA/LSTA 2023): use of proceeds and expected benefit.
    green_category: Mapped[str] = mapped_column(String(128))
    environmental_benefit: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def name(self, locale: str = "zh") -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


class Application(db.Model):
    """A loan application by a party for a product."""

    __tablename__ = "loan_applications"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("term_months > 0", name="term_positive"),
        Index("ix_loan_applications_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_products.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int]
    purpose: Mapped[str] = mapped_column(Text)
    annual_income: Mapped[Decimal] = mapped_column(Money)
    total_assets: Mapped[Decimal] = mapped_column(Money)
    total_debts: Mapped[Decimal] = mapped_column(Money)
    years_in_business: Mapped[int] = mapped_column(default=0)
    # [{"name": "...", "party_id": 3 or null, "relation": "..."}]
    guarantors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # [{"kind": "business_licence", "reference": "..."}]
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    applied_on: Mapped[date] = mapped_column(Date)
    # Snapshots taken at scoring time, so the file shows what the officer saw.
    eco_colour: Mapped[Optional[str]] = mapped_column(String(8))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    party: Mapped[Party] = relationship(lazy="joined")
    product: Mapped[LoanProduct] = relationship(lazy="joined")
    collateral: Mapped[list["CollateralPledge"]] = relationship(back_populates="application",
                                                               order_by="CollateralPledge.id")
    scores: Mapped[list["Score"]] = relationship(back_populates="application", order_by="Score.id")
    decisions: Mapped[list["Decision"]] = relationship(back_populates="application", order_by="Decision.id")
    loan: Mapped[Optional["Loan"]] = relationship(back_populates="application")


class CollateralPledge(db.Model):
    """A parcel (with its rights certificate) pledged for an application and then its loan.

    A parcel may carry only one live pledge (proposed or pledged): the partial unique
    index makes the database refuse a second one even under concurrent requests.
    """

    __tablename__ = "collateral_pledges"
    __table_args__ = (
        CheckConstraint("appraised_value >= 0", name="appraised_nonneg"),
        CheckConstraint("haircut >= 0 and haircut < 1", name="haircut_range"),
        Index("uq_collateral_pledges_live_parcel", "parcel_id", unique=True,
              sqlite_where=db.text("status in ('proposed', 'pledged')"),
              postgresql_where=db.text("status in ('proposed', 'pledged')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_applications.id"), index=True)
    loan_id: Mapped[Optional[int]] = mapped_column(ForeignKey("loans.id"), index=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    cert_no: Mapped[str] = mapped_column(String(64))
    appraised_value: Mapped[Decimal] = mapped_column(Money)
    appraiser: Mapped[Optional[str]] = mapped_column(String(128))
    gep_value: Mapped[Optional[Decimal]] = mapped_column(Money)
    gep_year: Mapped[Optional[int]]
    gep_account_id: Mapped[Optional[int]]
    haircut: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="collateral")
    parcel: Mapped[Parcel] = relationship(lazy="joined")

    @property
    def lendable_value(self) -> Decimal:
        """Appraised value after the haircut."""
        return (self.appraised_value * (1 - self.haircut)).quantize(Decimal("0.01"))


class ModelVersion(db.Model):
    """A registered scoring model: artefact, features, data hash, metrics and score scaling."""

    __tablename__ = "scoring_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    # champion (at most one), challenger (scored beside it) or retired.
    role: Mapped[str] = mapped_column(String(16), default="challenger", index=True)
    artefact: Mapped[bytes] = mapped_column(LargeBinary)
    artefact_sha256: Mapped[str] = mapped_column(String(64))
    features: Mapped[list[str]] = mapped_column(JSONType)
    target: Mapped[str] = mapped_column(String(255))
    bad_value: Mapped[Optional[str]] = mapped_column(String(255))
    training_data_hash: Mapped[str] = mapped_column(String(64))
    training_source: Mapped[Optional[str]] = mapped_column(String(255))
    # {"auc", "ks", "gini", "brier", "n_train", "n_test", "bad_rate", "segments": {...}}
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # {"base_points": 600, "base_odds": 50, "pdo": 20}: odds are good:bad.
    scaling: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Reference distributions for the population stability index.
    reference: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScoreBatch(db.Model):
    """An uploaded applicants CSV scored in a job by one model version.

    The upload itself is kept (``input``), so a worker on any machine can score it and the
    scored file can be rebuilt where it is missing; ``scored_rows`` is set when the job finishes.
    After the retention period (``LENDING_BATCH_RETENTION_DAYS``) the upload is deleted
    (``purged_at``: it holds applicants' figures); the record stays.
    """

    __tablename__ = "score_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    model_id: Mapped[int] = mapped_column(ForeignKey("scoring_models.id"), index=True)
    rows: Mapped[int]
    # Rows the intake checks reject (scoring/intake.py), counted at upload; they are not scored.
    rejected_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    input: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    input_sha256: Mapped[str] = mapped_column(String(64))
    scored_rows: Mapped[Optional[int]]
    job_id: Mapped[Optional[str]] = mapped_column(String(36))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    model: Mapped[ModelVersion] = relationship(lazy="joined")
    job: Mapped[Optional[Job]] = relationship(primaryjoin="foreign(ScoreBatch.job_id) == Job.id", viewonly=True)

    @property
    def status(self) -> Optional[str]:
        """The job's status: queued, started, finished or failed."""
        return self.job.status if self.job is not None else None


class Score(db.Model):
    """One model's score of one application. Insert-only."""

    __tablename__ = "application_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_applications.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("scoring_models.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    score: Mapped[int]
    pd: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    band: Mapped[str] = mapped_column(String(2))
    # [{"code", "feature", "points_lost", "zh", "en"}], the four factors that lowered the score most.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="scores")
    model: Mapped[ModelVersion] = relationship(lazy="joined")


class Decision(db.Model):
    """A decision on an application: the system's (policy + cut-offs) or an officer's.

    Insert-only; the application's decision is its latest row whose override (if any)
    was approved. An override (an outcome other than the system's approve/decline)
    waits for a second officer: ``override_status`` pending -> approved/rejected.
    """

    __tablename__ = "loan_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_applications.id"), index=True)
    score_id: Mapped[Optional[int]] = mapped_column(ForeignKey("application_scores.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    system_outcome: Mapped[str] = mapped_column(String(16))
    # [{"code", "outcome", "zh", "en"}]: the policy rules that fired.
    policy_hits: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # Reasons printed on a decline letter (policy hits and score reasons).
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    approved_amount: Mapped[Optional[Decimal]] = mapped_column(Money)
    base_rate: Mapped[Optional[Decimal]] = mapped_column(Rate)
    risk_premium: Mapped[Optional[Decimal]] = mapped_column(Rate)
    green_discount: Mapped[Optional[Decimal]] = mapped_column(Rate)
    insurance_discount: Mapped[Optional[Decimal]] = mapped_column(Rate)  # pricing.INSURED_DISCOUNT when insured
    rate: Mapped[Optional[Decimal]] = mapped_column(Rate)
    kind: Mapped[str] = mapped_column(String(16))  # system, officer, override
    note: Mapped[Optional[str]] = mapped_column(Text)
    override_status: Mapped[Optional[str]] = mapped_column(String(16))
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="decisions")
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])


class Loan(db.Model):
    """A booked loan. See the module docstring for its fields."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("outstanding_principal >= 0", name="outstanding_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_applications.id"), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_products.id"), index=True)
    principal: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    term_months: Mapped[int]
    amortisation: Mapped[str] = mapped_column(String(16))
    disbursed_on: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    outstanding_principal: Mapped[Decimal] = mapped_column(Money)
    days_past_due: Mapped[int] = mapped_column(default=0)
    max_days_past_due: Mapped[int] = mapped_column(default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="current")
    dpd_as_of: Mapped[Optional[date]] = mapped_column(Date)
    green_category: Mapped[str] = mapped_column(String(128))
    eco_colour: Mapped[Optional[str]] = mapped_column(String(8))
    score: Mapped[Optional[int]]
    collateral_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    collateral_gep: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    defaulted_on: Mapped[Optional[date]] = mapped_column(Date)
    closed_on: Mapped[Optional[date]] = mapped_column(Date)
    written_off_amount: Mapped[Optional[Decimal]] = mapped_column(Money)
    write_off_reason: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="loan")
    party: Mapped[Party] = relationship(lazy="joined")
    product: Mapped[LoanProduct] = relationship(lazy="joined")
    instalments: Mapped[list["Instalment"]] = relationship(back_populates="loan", order_by="Instalment.seq")
    repayments: Mapped[list["Repayment"]] = relationship(back_populates="loan", order_by="Repayment.id")
    collateral: Mapped[list[CollateralPledge]] = relationship(order_by="CollateralPledge.id", viewonly=True)


class Instalment(db.Model):
    """One line of a loan's repayment schedule."""

    __tablename__ = "loan_instalments"
    __table_args__ = (UniqueConstraint("loan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    seq: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date)
    opening_balance: Mapped[Decimal] = mapped_column(Money)
    principal_due: Mapped[Decimal] = mapped_column(Money)
    interest_due: Mapped[Decimal] = mapped_column(Money)
    fee_due: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total_due: Mapped[Decimal] = mapped_column(Money)
    closing_balance: Mapped[Decimal] = mapped_column(Money)
    principal_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    interest_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    fee_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_on: Mapped[Optional[date]] = mapped_column(Date)  # the day it was paid in full

    loan: Mapped[Loan] = relationship(back_populates="instalments")

    @property
    def amount_unpaid(self) -> Decimal:
        return self.total_due - self.principal_paid - self.interest_paid - self.fee_paid

    @property
    def settled(self) -> bool:
        return self.amount_unpaid <= 0


class Repayment(db.Model):
    """Money received on a loan, allocated to fees, then interest, then principal. Insert-only."""

    __tablename__ = "loan_repayments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    fee_part: Mapped[Decimal] = mapped_column(Money)
    interest_part: Mapped[Decimal] = mapped_column(Money)
    principal_part: Mapped[Decimal] = mapped_column(Money)
    # [{"seq": 3, "fee": "0.00", "interest": "12.34", "principal": "800.00"}]
    allocation: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    reference: Mapped[Optional[str]] = mapped_column(String(64))
    # Who paid: the borrower, or an insurer paying the lender as first loss payee (REPAYMENT_SOURCES).
    source: Mapped[str] = mapped_column(String(16), default="borrower", server_default="borrower")
    recorded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    loan: Mapped[Loan] = relationship(back_populates="repayments")
