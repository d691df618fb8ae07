"""Automatic claims: the daily evaluation, payout events, maker-checker approval and the payout
to the loss payee (the lender of a pledged parcel first, through lending's contract).

Exactly once: an event is unique per (product version, station, first day of the spell) and a
claim per (policy, event); the evaluation looks before it writes and a concurrent writer's
duplicate is caught by the constraint in a savepoint, so evaluating a day twice, or a job retried
after its worker was killed, leaves one claim per policy and event.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Optional

import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from greenfin import dates
from greenfin.core.services import record_audit
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.insurance import rules
from greenfin.insurance.models import FundEntry, InsuranceClaim, InsurancePolicy, PayoutEvent
from greenfin.insurance.services.products import terms_of
from greenfin.insurance.services.policies import loss_payee_loans
from greenfin.insurance.services.weather import readings
from greenfin.job_model import Job
from greenfin.registry import contract
from greenfin.security import current_actor

LIVE_CLAIM_STATUSES = ("pending", "proposed", "paid")


# ---------------------------------------------------------------- evaluation


def _season_arrays(station_id: int, start: date, end: date) -> tuple[list[date], np.ndarray, np.ndarray, dict]:
    held = readings(station_id, start, end)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    tmin = np.array([float(held[d][0]) if d in held else math.nan for d in days])
    precip = np.array([float(held[d][2]) if d in held else math.nan for d in days])
    return days, tmin, precip, held


def _event(policy: InsurancePolicy, spell: rules.Spell, days: list[date], held: dict, share: Decimal) -> PayoutEvent:
    started, ended = days[spell.start], days[spell.end]
    event = db.session.scalar(select(PayoutEvent).where(
        PayoutEvent.product_id == policy.product_id, PayoutEvent.station_id == policy.station_id,
        PayoutEvent.started_on == started))
    if event is not None:
        return event
    product, station = policy.product, policy.station
    shown = [{"date": d.isoformat(), "tmin": str(held[d][0]), "tmax": str(held[d][1]), "precip_mm": str(held[d][2])}
             for d in days[max(0, spell.start - 2): spell.end + 3] if d in held]
    event = PayoutEvent(code=f"{station.code}-{product.code}-V{product.version}-{started:%Y%m%d}",
                        product_id=product.id, station_id=station.id, season=policy.season, started_on=started,
                        ended_on=ended, index_value=spell.index, payout_share=share, readings=shown)
    try:
        with db.session.begin_nested():
            db.session.add(event)
            db.session.flush()
    except IntegrityError:  # another evaluation recorded it first
        return db.session.scalar(select(PayoutEvent).where(
            PayoutEvent.product_id == policy.product_id, PayoutEvent.station_id == policy.station_id,
            PayoutEvent.started_on == started))
    record_audit("insurance.event.create", "ins_event", event.id,
                 after={"code": event.code, "index": spell.index, "share": share, "from": started, "to": ended})
    return event


def evaluate_policies(as_of: Optional[date] = None) -> int:
    """Evaluate every live policy against its station's readings up to ``as_of`` (default: yesterday,
    the last whole day). Creates the events and one claim per policy and event; returns the
    number of claims created. Policies sharing product, station and season are evaluated together
    (the index once, the payouts as one vector)."""
    as_of = as_of or dates.today() - timedelta(days=1)
    policies = list(db.session.scalars(select(InsurancePolicy).where(
        InsurancePolicy.status == "active", InsurancePolicy.starts_on <= as_of,
        InsurancePolicy.ends_on >= as_of - timedelta(days=366))))
    groups: dict[tuple, list[InsurancePolicy]] = defaultdict(list)
    for policy in policies:
        groups[(policy.product_id, policy.station_id, policy.season)].append(policy)
    created = 0
    for (_product_id, station_id, _season), members in sorted(groups.items()):
        first = members[0]
        end = min(first.ends_on, as_of)
        days, tmin, precip, held = _season_arrays(station_id, first.starts_on, end)
        terms = terms_of(first.product)
        spells = rules.find_spells(terms, tmin, precip, season_over=as_of > first.ends_on)
        for spell in spells:
            share = rules.payout_share(terms, spell.index)
            if share <= 0:
                continue
            event = _event(first, spell, days, held, share)
            claimed = set(db.session.scalars(select(InsuranceClaim.policy_id).where(
                InsuranceClaim.event_id == event.id)))
            todo = [p for p in members if p.id not in claimed]
            if not todo:
                continue
            paid = _claimed_cents([p.id for p in todo])
            amounts = rules.payout_cents(share, np.array([int(p.sum_insured * 100) for p in todo]),
                                         np.array([paid.get(p.id, 0) for p in todo]))
            for policy, cents in zip(todo, amounts.tolist()):
                if cents > 0:  # a policy whose season limit is used up claims nothing more
                    created += _add_claim(policy, event, share, Decimal(cents) / 100)
    db.session.flush()
    return created


def _claimed_cents(policy_ids: list[int]) -> dict[int, int]:
    """What each policy's live claims already take of its aggregate limit, in cents."""
    rows = db.session.execute(select(InsuranceClaim.policy_id, func.sum(InsuranceClaim.amount)).where(
        InsuranceClaim.policy_id.in_(policy_ids), InsuranceClaim.status.in_(LIVE_CLAIM_STATUSES))
        .group_by(InsuranceClaim.policy_id))
    return {pid: int(Decimal(total) * 100) for pid, total in rows}


def _add_claim(policy: InsurancePolicy, event: PayoutEvent, share: Decimal, amount: Decimal) -> int:
    claim = InsuranceClaim(policy_id=policy.id, event_id=event.id, payout_share=share,
                           amount=amount.quantize(rules.CENT), status="pending")
    try:
        with db.session.begin_nested():
            db.session.add(claim)
            db.session.flush()
    except IntegrityError:  # a concurrent evaluation made it: one claim per policy and event
        return 0
    record_audit("insurance.claim.create", "ins_claim", claim.id,
                 after={"policy": policy.number, "event": event.code, "share": share, "amount": claim.amount},
                 party_id=policy.holder_id)
    return 1


def start_evaluation(as_of: Optional[date] = None) -> Job:
    """Queue the evaluation as a job (the page's button and the API); returns the job to follow."""
    from greenfin.i18n import requester_gettext as _
    from greenfin.jobs import enqueue

    if as_of is not None and as_of >= dates.today():
        raise ValidationFailed(N_("Invalid date"), {"as_of": ["evaluate a day that has ended"]})
    return enqueue("greenfin.insurance.jobs.evaluate", {"as_of": as_of.isoformat()} if as_of else {},
                   title=_("Evaluate index policies"))


# ---------------------------------------------------------------- approval and payout


def get_claim(claim_id: int) -> InsuranceClaim:
    claim = db.session.get(InsuranceClaim, claim_id)
    if claim is None:
        raise NotFound(N_("claim not found"), {"claim_id": [f"unknown claim {claim_id}"]})
    return claim


def claim_query(*, status: Optional[str] = None, holder_id: Optional[int] = None,
                event_id: Optional[int] = None, policy_id: Optional[int] = None) -> Select:
    stmt = select(InsuranceClaim).join(InsurancePolicy).order_by(InsuranceClaim.id.desc())
    if status:
        stmt = stmt.where(InsuranceClaim.status == status)
    if holder_id is not None:
        stmt = stmt.where(InsurancePolicy.holder_id == holder_id)
    if event_id is not None:
        stmt = stmt.where(InsuranceClaim.event_id == event_id)
    if policy_id is not None:
        stmt = stmt.where(InsuranceClaim.policy_id == policy_id)
    return stmt


def _require_user():
    user = current_actor()
    if user is None:
        raise Conflict(N_("Claims are decided by a signed-in user"))
    return user


def propose_claim(claim: InsuranceClaim, note: str = "") -> InsuranceClaim:
    """The maker checks the event and the claim and proposes the payout."""
    user = _require_user()
    if claim.status != "pending":
        raise Conflict(N_("Only a pending claim can be proposed for payment"), {"claim_id": [f"the claim is {claim.status}"]})
    claim.status, claim.proposed_by_id, claim.proposed_at = "proposed", user.id, dates.utcnow()
    claim.note = (note or "").strip() or None
    db.session.flush()
    record_audit("insurance.claim.propose", "ins_claim", claim.id, before={"status": "pending"},
                 after={"status": "proposed", "amount": claim.amount, "note": claim.note},
                 party_id=claim.policy.holder_id)
    return claim


def reject_claim(claim: InsuranceClaim, note: str) -> InsuranceClaim:
    """Reject a pending or proposed claim (a proposed one by someone other than its maker)."""
    user = _require_user()
    if not (note or "").strip():
        raise ValidationFailed.field("note", "a reason is required")
    if claim.status not in ("pending", "proposed"):
        raise Conflict(N_("This claim is already decided"), {"claim_id": [f"the claim is {claim.status}"]})
    if claim.status == "proposed" and claim.proposed_by_id == user.id:
        raise Conflict(N_("A second person must decide a proposed claim, not its maker"))
    before = claim.status
    claim.status, claim.decided_by_id, claim.decided_at, claim.note = "rejected", user.id, dates.utcnow(), note.strip()
    db.session.flush()
    record_audit("insurance.claim.reject", "ins_claim", claim.id, before={"status": before},
                 after={"status": "rejected", "note": claim.note}, party_id=claim.policy.holder_id)
    return claim


def approve_claim(claim: InsuranceClaim, paid_on: Optional[date] = None) -> InsuranceClaim:
    """The checker (never the maker) approves and pays: to the lender of the pledged parcel first
    (a repayment through lending's contract, at most what the loan owes), the rest to the holder."""
    user = _require_user()
    if claim.status != "proposed":
        raise Conflict(N_("Only a proposed claim can be approved"), {"claim_id": [f"the claim is {claim.status}"]})
    if claim.proposed_by_id == user.id:
        raise Conflict(N_("A second person must decide a proposed claim, not its maker"))
    paid_on = paid_on or dates.today()
    policy = claim.policy
    to_lender, loan_id = Decimal("0"), loss_payee_loans([policy.parcel_id]).get(policy.parcel_id)
    lending = contract("greenfin.lending")
    if loan_id is not None and lending is not None and claim.amount > 0:
        to_lender = lending.post_insurance_payout(loan_id, claim.amount, paid_on, reference=f"INS-CLAIM-{claim.id}")
    claim.status, claim.decided_by_id, claim.decided_at, claim.paid_on = "paid", user.id, dates.utcnow(), paid_on
    claim.loan_id = loan_id if to_lender > 0 else None
    claim.to_lender, claim.to_holder = to_lender, claim.amount - to_lender
    db.session.add(FundEntry(kind="claim", amount=-claim.amount, entry_on=paid_on, policy_id=policy.id,
                             claim_id=claim.id))
    db.session.flush()
    record_audit("insurance.claim.pay", "ins_claim", claim.id, before={"status": "proposed"},
                 after={"status": "paid", "amount": claim.amount, "to_lender": to_lender, "loan_id": claim.loan_id,
                        "to_holder": claim.to_holder, "paid_on": paid_on}, party_id=policy.holder_id)
    return claim


# ---------------------------------------------------------------- public events


def event_query() -> Select:
    return select(PayoutEvent).order_by(PayoutEvent.started_on.desc(), PayoutEvent.id.desc())


def get_event(code: str) -> PayoutEvent:
    event = db.session.scalar(select(PayoutEvent).where(PayoutEvent.code == code))
    if event is None:
        raise NotFound(N_("payout event not found"), {"code": [f"unknown event {code}"]})
    return event


def event_summary(event: PayoutEvent) -> dict:
    """What the public page shows of an event: no names, no parcels, no loans."""
    rows = db.session.execute(select(InsuranceClaim.status, func.count(InsuranceClaim.id),
                                     func.coalesce(func.sum(InsuranceClaim.amount), 0))
                              .where(InsuranceClaim.event_id == event.id).group_by(InsuranceClaim.status)).all()
    by = {status: (count, Decimal(total)) for status, count, total in rows}
    paid = by.get("paid", (0, Decimal("0")))
    to_lenders = db.session.scalar(select(func.coalesce(func.sum(InsuranceClaim.to_lender), 0)).where(
        InsuranceClaim.event_id == event.id, InsuranceClaim.status == "paid")) or 0
    return {"policies": sum(c for c, _t in by.values()), "paid_policies": paid[0], "paid_total": paid[1],
            "to_lenders": Decimal(to_lenders),
            "pending": sum(by.get(s, (0, 0))[0] for s in ("pending", "proposed"))}
