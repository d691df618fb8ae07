"""Pool business functions: pools, loans as of a date, eligibility, membership, statistics.

Cuts and loan tapes are in ``cuts.py``, projections in ``projections.py``.

They add and flush, never commit, and raise ``ValidationFailed`` / ``NotFound`` /
``Conflict``. Servicer reports live in ``reporting.py``. Loans are read from the
lending package's models; the eco-credit colour comes from
``credit.services.current_rating`` and the collateral's GEP from
``greenfin.gep.services.current_parcel_gep``, both imported lazily (either package
may be absent).
"""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from greenfin.core.models import Party
from greenfin.core.services import record_audit, snapshot
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.lending.models import Loan, LoanProduct
from greenfin.pools import stats
from greenfin.pools.models import DESIGNATIONS, Pool, PoolMembership
from greenfin.pools.validation import COLOURS, validate_criteria, validate_structure
from greenfin.security import current_actor

CENT = Decimal("0.01")
# The lending package's amortisation methods as the projection's types. Seasonal loans
# (instalments at the harvest) are projected as equal-principal loans: an approximation.
AMORTISATION_MAP = {"annuity": "annuity", "equal_principal": "linear", "interest_only": "bullet", "seasonal": "linear"}

# Why a loan fails the criteria: a code, an English message (translated on pages) and its values.
REASONS = {
    "not_performing": N_("not performing (status %(status)s)"),
    "defaulted": N_("defaulted on %(date)s"),
    "no_balance": N_("no outstanding balance"),
    "not_disbursed": N_("not yet disbursed on %(date)s"),
    "dpd": N_("%(dpd)s days past due"),
    "not_green": N_("use of proceeds is not green-tagged"),
    "term_short": N_("remaining term of %(term)s months is below %(limit)s"),
    "term_long": N_("remaining term of %(term)s months is above %(limit)s"),
    "unrated": N_("no published eco-credit rating (minimum %(limit)s)"),
    "colour": N_("eco-credit colour %(colour)s is below the minimum %(limit)s"),
    "obligor_share": N_("the obligor would hold %(share)s of the pool, above %(limit)s"),
    "township_share": N_("the township would hold %(share)s of the pool, above %(limit)s"),
}


def reason(code: str, **params) -> dict:
    return {"code": code, "params": {k: str(v) for k, v in params.items()}}


def reason_text(item: dict, translate=None) -> str:
    message = REASONS.get(item.get("code"), item.get("code", ""))
    if translate is not None:
        message = translate(message)
    try:
        return message % item.get("params", {})
    except (KeyError, TypeError, ValueError):
        return message


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


# ---------------------------------------------------------------- pools

POOL_FIELDS = ("code", "name", "originator_id", "green_designation", "description", "criteria", "structure")


def get_pool(pool_id: int) -> Pool:
    pool = db.session.get(Pool, pool_id)
    if pool is None:
        raise NotFound(N_("pool not found"), {"pool_id": [f"no pool with id {pool_id}"]})
    return pool


def pool_query(q: Optional[str] = None) -> Select:
    stmt = select(Pool).order_by(Pool.id.desc())
    if q:
        stmt = stmt.where(Pool.name.contains(q) | Pool.code.contains(q))
    return stmt


def _check_pool_fields(data: dict, errors: dict, existing: Optional[Pool] = None) -> None:
    if "code" in data or existing is None:
        code = (data.get("code") or "").strip()
        if not code or len(code) > 32:
            errors["code"] = [N_("is required (at most 32 characters)")]
        elif db.session.scalar(select(Pool.id).where(Pool.code == code, Pool.id != (existing.id if existing else 0))):
            errors["code"] = [N_("a pool with this code already exists")]
    if "name" in data or existing is None:
        if not (data.get("name") or "").strip():
            errors["name"] = [N_("is required")]
    if "originator_id" in data or existing is None:
        if db.session.get(Party, data.get("originator_id") or 0) is None:
            errors["originator_id"] = [N_("unknown party")]
    if "green_designation" in data and data["green_designation"] not in DESIGNATIONS:
        errors["green_designation"] = [N_("must be green, transition or none")]


def create_pool(data: dict) -> Pool:
    errors: dict[str, list[str]] = {}
    _check_pool_fields(data, errors)
    criteria = structure = None
    try:
        criteria = validate_criteria(data.get("criteria"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        structure = validate_structure(data.get("structure"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(N_("Invalid pool"), errors)
    actor = current_actor()
    pool = Pool(code=data["code"].strip(), name=data["name"].strip(), originator_id=data["originator_id"],
                green_designation=data.get("green_designation") or "green", description=data.get("description"),
                criteria=criteria, structure=structure, created_by_id=actor.id if actor else None)
    db.session.add(pool)
    db.session.flush()
    record_audit("pool.create", "pool", pool.id, after=snapshot(pool, POOL_FIELDS))
    return pool


def update_pool(pool: Pool, data: dict) -> Pool:
    errors: dict[str, list[str]] = {}
    _check_pool_fields(data, errors, pool)
    changes = {k: v for k, v in data.items() if k in POOL_FIELDS}
    for key, fn in (("criteria", validate_criteria), ("structure", validate_structure)):
        if key in changes:
            try:  # a partial change keeps the pool's other settings
                changes[key] = fn(dict(getattr(pool, key) or {}) | dict(changes[key] or {}))
            except ValidationFailed as exc:
                errors.update(exc.errors)
    if errors:
        raise ValidationFailed(N_("Invalid pool"), errors)
    before = snapshot(pool, POOL_FIELDS)
    for key, value in changes.items():
        setattr(pool, key, value.strip() if isinstance(value, str) and key in ("code", "name") else value)
    db.session.flush()
    record_audit("pool.update", "pool", pool.id, before=before, after=snapshot(pool, POOL_FIELDS))
    return pool


# ---------------------------------------------------------------- loans as of a date


def get_loan(loan_id: Any) -> Loan:
    loan = db.session.get(Loan, loan_id) if isinstance(loan_id, int) and not isinstance(loan_id, bool) else None
    if loan is None:
        raise NotFound(N_("loan not found"), {"loan_id": [f"no loan with id {loan_id}"]})
    return loan


def balance_as_of(loan: Loan, as_of: date) -> Decimal:
    """Outstanding principal at the end of ``as_of`` from the repayments and write-off."""
    if as_of >= date.today():
        return loan.outstanding_principal
    paid = sum((r.principal_part for r in loan.repayments if r.received_on <= as_of), Decimal("0"))
    written = loan.written_off_amount or Decimal("0")
    if not (loan.status == "written_off" and loan.closed_on is not None and loan.closed_on <= as_of):
        written = Decimal("0")
    if as_of < loan.disbursed_on:
        return Decimal("0")
    return max(Decimal("0"), loan.principal - paid - written)


def dpd_as_of(loan: Loan, as_of: date) -> int:
    """Days past due at ``as_of``: since the oldest instalment due before it and not paid in full by it."""
    for inst in loan.instalments:
        if inst.due_date >= as_of:
            break
        if inst.paid_on is None or inst.paid_on > as_of:
            return (as_of - inst.due_date).days
    return 0


def remaining_term_as_of(loan: Loan, as_of: date) -> int:
    """Whole months from ``as_of`` to maturity, a part month counting as one (at least 1)."""
    m = loan.maturity_date
    months = (m.year - as_of.year) * 12 + (m.month - as_of.month) + (1 if m.day > as_of.day else 0)
    return max(1, months)


def status_as_of(loan: Loan, as_of: date, balance: Decimal, dpd: int) -> str:
    if as_of < loan.disbursed_on:
        return "not_disbursed"
    if loan.status == "written_off" and loan.closed_on is not None and loan.closed_on <= as_of:
        return "written_off"
    if balance <= 0:
        return "repaid"
    if loan.defaulted_on is not None and loan.defaulted_on <= as_of:
        return "defaulted"
    return "delinquent" if dpd > 0 else "performing"


def eco_colour(party_id: int) -> Optional[str]:
    """The party's published eco-credit colour now, or None (unrated, or no credit package)."""
    try:
        from credit.services import current_rating
    except ImportError:
        return None
    rating = current_rating(party_id)
    return rating.colour if rating is not None else None


def collateral_gep(loan: Loan) -> Optional[Decimal]:
    """GEP (yuan a year) of the parcels pledged for the loan: their latest accounts, else the value at origination."""
    try:
        from greenfin.gep.services import current_parcel_gep
    except ImportError:
        current_parcel_gep = None
    total, found = Decimal("0"), False
    for pledge in loan.collateral:
        if pledge.status not in ("pledged", "enforced"):
            continue
        value = None
        if current_parcel_gep is not None:
            gep = current_parcel_gep(pledge.parcel_id)
            value = gep.value if gep is not None else None
        if value is None:
            value = pledge.gep_value
        if value is not None:
            total, found = total + Decimal(value), True
    if found:
        return total.quantize(CENT)
    return loan.collateral_gep if loan.collateral_gep else None


def loan_record(loan: Loan, as_of: date, colours: Optional[dict] = None) -> dict[str, Any]:
    """Everything pools need of one loan at ``as_of``: the fields of a cut line."""
    balance = balance_as_of(loan, as_of)
    dpd = dpd_as_of(loan, as_of)
    collateral = loan.collateral_value if loan.collateral_value and loan.collateral_value > 0 else None
    if colours is None:
        colours = {}
    if loan.party_id not in colours:
        colours[loan.party_id] = eco_colour(loan.party_id)
    return {
        "loan_id": loan.id, "loan_number": loan.number, "party_id": loan.party_id,
        "township_code": loan.party.township_code if loan.party else None,
        "sector": loan.party.sector if loan.party else None,
        "product_code": loan.product.code, "amortisation": loan.amortisation,
        "disbursed_on": loan.disbursed_on, "maturity_date": loan.maturity_date,
        "original_principal": loan.principal, "original_term": loan.term_months,
        "balance": balance, "rate": loan.annual_rate,
        "remaining_term": remaining_term_as_of(loan, as_of), "days_past_due": dpd,
        "status": status_as_of(loan, as_of, balance, dpd),
        "collateral_value": collateral,
        "ltv": (balance / collateral).quantize(Decimal("0.000001")) if collateral else None,
        "colour": colours[loan.party_id], "collateral_gep": collateral_gep(loan),
        "green_category": (loan.green_category or "").strip() or None,
        "defaulted_on": loan.defaulted_on, "as_of": as_of,
    }


# ---------------------------------------------------------------- eligibility


def _colour_rank(colour: Optional[str]) -> int:
    return COLOURS.index(colour) if colour in COLOURS else len(COLOURS)


def loan_reasons(criteria: dict, record: dict) -> list[dict]:
    """The loan-level criteria a record fails (concentration is checked on the pool)."""
    out = []
    if record["status"] == "not_disbursed":
        return [reason("not_disbursed", date=record.get("as_of") or "")]
    if record["balance"] <= 0:
        out.append(reason("no_balance"))
    if criteria.get("performing"):
        if record["status"] in ("repaid", "written_off"):
            out.append(reason("not_performing", status=record["status"]))
        elif record["status"] == "defaulted":
            out.append(reason("defaulted", date=record.get("defaulted_on") or ""))
    if criteria.get("zero_dpd") and record["days_past_due"] > 0:
        out.append(reason("dpd", dpd=record["days_past_due"]))
    if criteria.get("green_tagged") and not record.get("green_category"):
        out.append(reason("not_green"))
    term = record["remaining_term"]
    if criteria.get("min_remaining_term") is not None and term < criteria["min_remaining_term"]:
        out.append(reason("term_short", term=term, limit=criteria["min_remaining_term"]))
    if criteria.get("max_remaining_term") is not None and term > criteria["max_remaining_term"]:
        out.append(reason("term_long", term=term, limit=criteria["max_remaining_term"]))
    minimum = criteria.get("min_colour")
    if minimum:
        if record.get("colour") is None:
            out.append(reason("unrated", limit=minimum))
        elif _colour_rank(record["colour"]) > _colour_rank(minimum):
            out.append(reason("colour", colour=record["colour"], limit=minimum))
    return out


def concentration_reasons(criteria: dict, pool_records: list[dict], candidates: Iterable[dict]) -> dict[int, list[dict]]:
    """Obligor and township limits on the pool that results (``pool_records`` includes the candidates).

    A limit of s applies once the pool holds at least ceil(1 / s) loans: below that
    count no pool, however balanced, could meet it.
    """
    out: dict[int, list[dict]] = {}
    total = sum((r["balance"] for r in pool_records), Decimal("0"))
    if total <= 0:
        return out
    for key, field, code in (("max_obligor_share", "party_id", "obligor_share"),
                             ("max_township_share", "township_code", "township_share")):
        limit = criteria.get(key)
        if limit is None:
            continue
        limit = Decimal(str(limit))
        if len(pool_records) < math.ceil(1 / limit):
            continue
        sums: dict[Any, Decimal] = {}
        for r in pool_records:
            sums[r[field]] = sums.get(r[field], Decimal("0")) + r["balance"]
        for cand in candidates:
            share = sums.get(cand[field], Decimal("0")) / total
            if share > limit:
                out.setdefault(cand["loan_id"], []).append(
                    reason(code, share=_pct(float(share)), limit=_pct(float(limit))))
    return out


def live_memberships(pool: Pool) -> list[PoolMembership]:
    return list(db.session.scalars(
        select(PoolMembership).where(PoolMembership.pool_id == pool.id, PoolMembership.removed_on.is_(None))
        .order_by(PoolMembership.id)))


def members_on(pool: Pool, as_of: date) -> list[PoolMembership]:
    return list(db.session.scalars(
        select(PoolMembership).where(PoolMembership.pool_id == pool.id, PoolMembership.added_on <= as_of,
                                     (PoolMembership.removed_on.is_(None)) | (PoolMembership.removed_on > as_of))
        .order_by(PoolMembership.id)))


def _load_loans(ids: Iterable[int]) -> dict[int, Loan]:
    ids = list(ids)
    if not ids:
        return {}
    loans = db.session.scalars(select(Loan).where(Loan.id.in_(ids)).options(
        selectinload(Loan.instalments), selectinload(Loan.repayments), selectinload(Loan.collateral)))
    return {loan.id: loan for loan in loans}


def evaluate(pool: Pool, candidate_ids: list[int], as_of: Optional[date] = None,
             without: Iterable[int] = ()) -> dict[int, dict]:
    """Each candidate's record and the reasons it fails (an empty list: eligible).

    Concentration is judged on the pool with every candidate added (and the loans in
    ``without`` taken out, for substitutions).
    """
    as_of = as_of or date.today()
    colours: dict = {}
    member_ids = [m.loan_id for m in live_memberships(pool) if m.loan_id not in set(without)]
    loans = _load_loans(set(member_ids) | set(candidate_ids))
    members = [loan_record(loans[i], as_of, colours) for i in member_ids if i not in candidate_ids]
    records = {i: loan_record(loans[i], as_of, colours) for i in candidate_ids}
    result = {i: {"record": r, "reasons": loan_reasons(pool.criteria, r)} for i, r in records.items()}
    extra = concentration_reasons(pool.criteria, members + list(records.values()), records.values())
    for loan_id, items in extra.items():
        result[loan_id]["reasons"].extend(items)
    return result


def candidate_query() -> Select:
    """Ids of the active loans in no pool, by id (a page of them for ``candidates``)."""
    pooled = select(PoolMembership.loan_id).where(PoolMembership.removed_on.is_(None))
    return select(Loan.id).where(Loan.status == "active", Loan.id.not_in(pooled)).order_by(Loan.id)


def candidates(pool: Pool, as_of: Optional[date] = None, loan_ids: Optional[list[int]] = None) -> list[dict]:
    """Active loans in no pool (or those of ``loan_ids``, e.g. one page of ``candidate_query``),
    each judged alone against the pool as it stands."""
    as_of = as_of or date.today()
    ids = list(db.session.scalars(candidate_query())) if loan_ids is None else list(loan_ids)
    colours: dict = {}
    member_ids = [m.loan_id for m in live_memberships(pool)]
    loans = _load_loans(set(member_ids) | set(ids))
    members = [loan_record(loans[i], as_of, colours) for i in member_ids]
    out = []
    for loan_id in ids:
        record = loan_record(loans[loan_id], as_of, colours)
        reasons = loan_reasons(pool.criteria, record)
        reasons += concentration_reasons(pool.criteria, members + [record], [record]).get(loan_id, [])
        out.append({"record": record, "reasons": reasons, "loan": loans[loan_id]})
    return out


# ---------------------------------------------------------------- membership


def _today() -> date:
    return date.today()


def _check_date(value: Optional[date], field: str) -> date:
    value = value or _today()
    if value > _today():
        raise ValidationFailed(N_("Invalid date"), {field: [N_("must not be in the future")]})
    return value


def _refuse_ineligible(evaluation: dict[int, dict], loans: dict[int, Loan]) -> None:
    errors = {f"loan {loans[i].number}": [reason_text(r) for r in e["reasons"]]
              for i, e in evaluation.items() if e["reasons"]}
    if errors:
        raise ValidationFailed(N_("Loans do not meet the pool's eligibility criteria"), errors, code="ineligible")


def _refuse_pooled(loan_ids: list[int], loans: dict[int, Loan], pool: Pool) -> None:
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
    loans = {i: get_loan(i) for i in loan_ids}
    added_on = _check_date(added_on, "added_on")
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
    return created


def _live_membership(pool: Pool, loan_id: Any) -> PoolMembership:
    loan = get_loan(loan_id)
    m = db.session.scalar(select(PoolMembership).where(PoolMembership.pool_id == pool.id,
                                                       PoolMembership.loan_id == loan.id,
                                                       PoolMembership.removed_on.is_(None)))
    if m is None:
        raise NotFound(N_("the loan is not in this pool"), {"loan_id": [f"loan {loan.number} is not in pool {pool.code}"]})
    return m


def remove_loan(pool: Pool, loan_id: Any, reason_note: str, removed_on: Optional[date] = None) -> PoolMembership:
    if not (reason_note or "").strip():
        raise ValidationFailed(N_("Invalid input"), {"reason": [N_("a reason is required")]})
    m = _live_membership(pool, loan_id)
    removed_on = _check_date(removed_on, "removed_on")
    if removed_on < m.added_on:
        raise ValidationFailed(N_("Invalid date"), {"removed_on": [N_("must not be before the loan was added")]})
    before = _membership_snapshot(m)
    actor = current_actor()
    m.removed_on, m.removal_reason, m.removed_by_id = removed_on, reason_note.strip(), actor.id if actor else None
    db.session.flush()
    record_audit("pool.remove_loan", "pool", pool.id, before=before, after=_membership_snapshot(m) | {"loan": m.loan.number},
                 party_id=m.loan.party_id)
    return m


def substitute_loan(pool: Pool, out_loan_id: Any, in_loan_id: Any, reason_note: str,
                    on: Optional[date] = None) -> PoolMembership:
    """Swap a loan out for an eligible one in a single step; both memberships are linked."""
    if not (reason_note or "").strip():
        raise ValidationFailed(N_("Invalid input"), {"reason": [N_("a reason is required")]})
    old = _live_membership(pool, out_loan_id)
    new_loan = get_loan(in_loan_id)
    on = _check_date(on, "on")
    if on < old.added_on or on < new_loan.disbursed_on:
        raise ValidationFailed(N_("Invalid date"), {"on": [N_("must not be before either loan joined or was disbursed")]})
    _refuse_pooled([new_loan.id], {new_loan.id: new_loan}, pool)
    evaluation = evaluate(pool, [new_loan.id], on, without=[old.loan_id])
    _refuse_ineligible(evaluation, {new_loan.id: new_loan})
    before = _membership_snapshot(old)
    actor = current_actor()
    old.removed_on, old.removal_reason = on, reason_note.strip()
    old.removed_by_id = actor.id if actor else None
    db.session.flush()
    new = PoolMembership(pool_id=pool.id, loan_id=new_loan.id, added_on=on, reason=reason_note.strip(),
                         added_by_id=actor.id if actor else None)
    db.session.add(new)
    _flush_memberships()
    old.substituted_by_id = new.id
    db.session.flush()
    record_audit("pool.substitute_loan", "pool", pool.id, before=before,
                 after={"out": old.loan.number, "in": new_loan.number, "on": on, "reason": reason_note.strip()},
                 party_id=new_loan.party_id)
    return new


def membership_query(pool: Pool, include_removed: bool = False) -> Select:
    stmt = select(PoolMembership).where(PoolMembership.pool_id == pool.id).order_by(PoolMembership.id)
    if not include_removed:
        stmt = stmt.where(PoolMembership.removed_on.is_(None))
    return stmt


# ---------------------------------------------------------------- statistics


def _float(v) -> Optional[float]:
    return float(v) if v is not None else None


def statistics_of(records: list[dict]) -> dict[str, Any]:
    """Pool statistics and the stratification tables, JSON-ready."""
    live = [r for r in records if r["balance"] > 0]
    headline = stats.pool_statistics(
        [r["balance"] for r in live], [r["rate"] for r in live], [r["original_term"] for r in live],
        [r["remaining_term"] for r in live], [AMORTISATION_MAP.get(r["amortisation"], "annuity") for r in live],
        obligor=[r["party_id"] for r in live])
    strata_records = [{"balance": r["balance"], "rate": r["rate"], "remaining_term": r["remaining_term"],
                       "product": r["product_code"], "township": r["township_code"], "colour": r["colour"],
                       "ltv": _float(r["ltv"]), "dpd": r["days_past_due"]} for r in live]
    green = [r for r in live if r.get("green_category")]
    total = sum((r["balance"] for r in live), Decimal("0"))
    categories = stats.stratify([r.get("green_category") for r in live], [r["balance"] for r in live])
    gep = sum((r["collateral_gep"] for r in live if r.get("collateral_gep") is not None), Decimal("0"))
    return {
        "headline": headline,
        "strata": stats.stratification_tables(strata_records) if live else {k: [] for k in stats.STRATA},
        "green": {
            "green_balance": float(sum((r["balance"] for r in green), Decimal("0"))),
            "green_share": float(sum((r["balance"] for r in green), Decimal("0")) / total) if total else None,
            "categories": categories,
            "collateral_gep": float(gep),
        },
    }


def live_records(pool: Pool, as_of: Optional[date] = None) -> list[dict]:
    as_of = as_of or date.today()
    members = members_on(pool, as_of)
    loans = _load_loans(m.loan_id for m in members)
    colours: dict = {}
    out = []
    for m in members:
        record = loan_record(loans[m.loan_id], as_of, colours)
        record["added_on"] = m.added_on
        out.append(record)
    return out


def live_statistics(pool: Pool, as_of: Optional[date] = None) -> dict[str, Any]:
    return statistics_of(live_records(pool, as_of))


def product_names(locale: str = "zh") -> dict[str, str]:
    return {p.code: p.name(locale) for p in db.session.scalars(select(LoanProduct))}



def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k) if k is not None else "": jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
