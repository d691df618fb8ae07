"""Membership of loans in a pool: evaluation against the criteria, candidates, and adding,
removing and substituting loans (all or none, audited)."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Optional

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from greenfin import dates
from greenfin.core.services import record_audit
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.lending.services import LoanFacts
from greenfin.pools.eligibility import concentration_reasons, loan_reasons, reason_text
from greenfin.pools.models import Pool, PoolMembership
from greenfin.pools.services.loans import candidate_query, get_loans, label_memberships, loan_facts, loan_record
from greenfin.security import current_actor


def live_memberships(pool: Pool) -> list[PoolMembership]:
    return list(db.session.scalars(
        select(PoolMembership).where(PoolMembership.pool_id == pool.id, PoolMembership.removed_on.is_(None))
        .order_by(PoolMembership.id)))


def members_on(pool: Pool, as_of: date) -> list[PoolMembership]:
    return list(db.session.scalars(
        select(PoolMembership).where(PoolMembership.pool_id == pool.id, PoolMembership.added_on <= as_of,
                                     (PoolMembership.removed_on.is_(None)) | (PoolMembership.removed_on > as_of))
        .order_by(PoolMembership.id)))


def evaluate(pool: Pool, candidate_ids: list[int], as_of: Optional[date] = None,
             without: Iterable[int] = ()) -> dict[int, dict]:
    """Each candidate's record and the reasons it fails (an empty list: eligible).

    Concentration is judged on the pool with every candidate added (and the loans in
    ``without`` taken out, for substitutions).
    """
    as_of = as_of or dates.today()
    member_ids = [m.loan_id for m in live_memberships(pool) if m.loan_id not in set(without)]
    facts = loan_facts(set(member_ids) | set(candidate_ids), as_of)
    members = [loan_record(facts[i]) for i in member_ids if i not in candidate_ids]
    records = {i: loan_record(facts[i]) for i in candidate_ids}
    result = {i: {"record": r, "reasons": loan_reasons(pool.criteria, r)} for i, r in records.items()}
    extra = concentration_reasons(pool.criteria, members + list(records.values()), records.values())
    for loan_id, items in extra.items():
        result[loan_id]["reasons"].extend(items)
    return result


def candidates(pool: Pool, as_of: Optional[date] = None, loan_ids: Optional[list[int]] = None) -> list[dict]:
    """Active loans in no pool (or those of ``loan_ids``, e.g. one page of ``candidate_query``),
    each judged alone against the pool as it stands."""
    as_of = as_of or dates.today()
    ids = list(db.session.scalars(candidate_query())) if loan_ids is None else list(loan_ids)
    member_ids = [m.loan_id for m in live_memberships(pool)]
    facts = loan_facts(set(member_ids) | set(ids), as_of)
    members = [loan_record(facts[i]) for i in member_ids]
    out = []
    for loan_id in ids:
        record = loan_record(facts[loan_id])
        reasons = loan_reasons(pool.criteria, record)
        reasons += concentration_reasons(pool.criteria, members + [record], [record]).get(loan_id, [])
        out.append({"record": record, "reasons": reasons, "facts": facts[loan_id]})
    return out


def check_date(value: Optional[date], field: str) -> date:
    """A membership or cut date: today by default, never in the future."""
    today = dates.today()
    value = value or today
    if value > today:
        raise ValidationFailed(N_("Invalid date"), {field: [N_("must not be in the future")]})
    return value


def _refuse_ineligible(evaluation: dict[int, dict], loans: dict[int, LoanFacts]) -> None:
    errors = {f"loan {loans[i].number}": [reason_text(r) for r in e["reasons"]]
              for i, e in evaluation.items() if e["reasons"]}
    if errors:
        raise ValidationFailed(N_("Loans do not meet the pool's eligibility criteria"), errors, code="ineligible")


def _refuse_pooled(loan_ids: list[int], loans: dict[int, LoanFacts], pool: Pool) -> None:
    live = db.session.scalars(select(PoolMembership).where(PoolMembership.loan_id.in_(loan_ids),
                                                           PoolMembership.removed_on.is_(None))).all()
    if live:
        errors = {}
        for m in live:
            where = N_("already in this pool") if m.pool_id == pool.id else f"already in pool {m.pool.code}"
            errors[f"loan {loans[m.loan_id].number}"] = [where]
        raise Conflict(N_("A loan may be in only one pool at a time"), errors, code="already_pooled")


def _membership_snapshot(m: PoolMembership) -> dict:
    return {"pool_id": m.pool_id, "loan_id": m.loan_id, "added_on": m.added_on, "reason": m.reason,
            "removed_on": m.removed_on, "removal_reason": m.removal_reason, "substituted_by_id": m.substituted_by_id}


def _flush_memberships() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(N_("A loan may be in only one pool at a time"), code="already_pooled") from None


def add_loans(pool: Pool, loan_ids: list, reason_note: Optional[str] = None, added_on: Optional[date] = None,
              as_of: Optional[date] = None) -> list[PoolMembership]:
    """Add loans to the pool, all or none: unknown, already pooled or ineligible loans refuse the lot."""
    if not loan_ids:
        raise ValidationFailed(N_("Invalid input"), {"loan_ids": [N_("name at least one loan")]})
    if len(set(loan_ids)) != len(loan_ids):
        raise ValidationFailed(N_("Invalid input"), {"loan_ids": [N_("a loan is named twice")]})
    loans = get_loans(loan_ids)
    added_on = check_date(added_on, "added_on")
    for loan in loans.values():
        if added_on < loan.disbursed_on:
            raise ValidationFailed(N_("Invalid date"), {"added_on": [N_("must not be before the loan was disbursed")]})
    _refuse_pooled(loan_ids, loans, pool)
    evaluation = evaluate(pool, loan_ids, as_of or added_on)
    _refuse_ineligible(evaluation, loans)
    actor = current_actor()
    created = []
    for loan_id in loan_ids:
        m = PoolMembership(pool_id=pool.id, loan_id=loan_id, added_on=added_on, reason=(reason_note or "").strip() or None,
                           added_by_id=actor.id if actor else None)
        db.session.add(m)
        created.append(m)
    _flush_memberships()
    for m in created:
        record_audit("pool.add_loan", "pool", pool.id, after=_membership_snapshot(m) | {"loan": loans[m.loan_id].number},
                     party_id=loans[m.loan_id].party_id)
    return label_memberships(created)


def _live_membership(pool: Pool, loan_id: Any) -> tuple[PoolMembership, LoanFacts]:
    loan = get_loans([loan_id])[loan_id]
    m = db.session.scalar(select(PoolMembership).where(PoolMembership.pool_id == pool.id,
                                                       PoolMembership.loan_id == loan.loan_id,
                                                       PoolMembership.removed_on.is_(None)))
    if m is None:
        raise NotFound(N_("the loan is not in this pool"), {"loan_id": [f"loan {loan.number} is not in pool {pool.code}"]})
    return m, loan


def remove_loan(pool: Pool, loan_id: Any, reason_note: str, removed_on: Optional[date] = None) -> PoolMembership:
    if not (reason_note or "").strip():
        raise ValidationFailed(N_("Invalid input"), {"reason": [N_("a reason is required")]})
    m, loan = _live_membership(pool, loan_id)
    removed_on = check_date(removed_on, "removed_on")
    if removed_on < m.added_on:
        raise ValidationFailed(N_("Invalid date"), {"removed_on": [N_("must not be before the loan was added")]})
    before = _membership_snapshot(m)
    actor = current_actor()
    m.removed_on, m.removal_reason, m.removed_by_id = removed_on, reason_note.strip(), actor.id if actor else None
    db.session.flush()
    record_audit("pool.remove_loan", "pool", pool.id, before=before, after=_membership_snapshot(m) | {"loan": loan.number},
                 party_id=loan.party_id)
    m.loan_number = loan.number
    return m


def substitute_loan(pool: Pool, out_loan_id: Any, in_loan_id: Any, reason_note: str,
                    on: Optional[date] = None) -> PoolMembership:
    """Swap a loan out for an eligible one in a single step; both memberships are linked."""
    if not (reason_note or "").strip():
        raise ValidationFailed(N_("Invalid input"), {"reason": [N_("a reason is required")]})
    old, old_loan = _live_membership(pool, out_loan_id)
    new_loan = get_loans([in_loan_id])[in_loan_id]
    on = check_date(on, "on")
    if on < old.added_on or on < new_loan.disbursed_on:
        raise ValidationFailed(N_("Invalid date"), {"on": [N_("must not be before either loan joined or was disbursed")]})
    _refuse_pooled([new_loan.loan_id], {new_loan.loan_id: new_loan}, pool)
    evaluation = evaluate(pool, [new_loan.loan_id], on, without=[old.loan_id])
    _refuse_ineligible(evaluation, {new_loan.loan_id: new_loan})
    before = _membership_snapshot(old)
    actor = current_actor()
    old.removed_on, old.removal_reason = on, reason_note.strip()
    old.removed_by_id = actor.id if actor else None
    db.session.flush()
    new = PoolMembership(pool_id=pool.id, loan_id=new_loan.loan_id, added_on=on, reason=reason_note.strip(),
                         added_by_id=actor.id if actor else None)
    db.session.add(new)
    _flush_memberships()
    old.substituted_by_id = new.id
    db.session.flush()
    record_audit("pool.substitute_loan", "pool", pool.id, before=before,
                 after={"out": old_loan.number, "in": new_loan.number, "on": on, "reason": reason_note.strip()},
                 party_id=new_loan.party_id)
    new.loan_number = new_loan.number
    return new


def membership_query(pool: Pool, include_removed: bool = False) -> Select:
    stmt = select(PoolMembership).where(PoolMembership.pool_id == pool.id).order_by(PoolMembership.id)
    if not include_removed:
        stmt = stmt.where(PoolMembership.removed_on.is_(None))
    return stmt
