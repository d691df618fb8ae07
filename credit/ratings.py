"""Four-colour ratings: runs, the regulator workflow, objections, overrides, credit repair, disclosure.

Workflow of a rating: ``computed`` (by a run) -> a regulator approves it -> ``notice``
(公示, default 15 days; the party may object) -> ``published`` once the notice is over
and no objection or override is open. A regulator may instead return a computed rating
(``returned``, with a note): the next run of its period computes it again. A repaired rating stays in the database but is
hidden from public view.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Optional

from sqlalchemy import Select, func, or_, select

from credit.common import _actor, _actor_label, setting
from credit.balances import active_vetoes, scores
from credit.models import (
    CreditRepair,
    Rating,
    RatingObjection,
    RatingOverride,
    RatingPeriod,
    RatingRun,
)
from credit.policy import COLOURS, THRESHOLDS, colour_for  # noqa: F401  (re-exported by services)
from greenfin.core.models import Party, User
from greenfin.core.identifiers import InvalidIdentifier
from greenfin.core.services import find_party_by_resident_id, record_audit
from greenfin.core.types import utcnow
from greenfin.dates import today as business_today
from greenfin.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from greenfin.extensions import db

STATES = ("computed", "returned", "notice", "published")
REVIEW_DECISIONS = ("approve", "return")
DEFAULTS = {"CREDIT_NOTICE_DAYS": 15, "CREDIT_OBJECTION_DAYS": 10}


def _setting(name: str):
    value = setting(name)
    return DEFAULTS.get(name) if value is None else value


@dataclass(frozen=True)
class PublishedRating:
    colour: str
    period: str
    published_at: datetime
    points: int
    rating_id: int


# ---------------------------------------------------------------- periods and runs

_PERIOD = re.compile(r"^(\d{4})(?:-(Q[1-4]|H[12]))?$")


def period_bounds(code: str) -> tuple[date, date]:
    """2026-Q3 -> (2026-07-01, 2026-09-30); also 2026-H1 and 2026."""
    match = _PERIOD.match((code or "").strip().upper())
    if not match:
        raise ValidationFailed.field("period", "write a period as 2026-Q3, 2026-H1 or 2026")
    year, part = int(match.group(1)), match.group(2)
    if not 2000 <= year <= 2100:
        raise ValidationFailed.field("period", "year out of range")
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    if part.startswith("H"):
        return (date(year, 1, 1), date(year, 6, 30)) if part == "H1" else (date(year, 7, 1), date(year, 12, 31))
    quarter = int(part[1])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def get_or_create_period(code: str) -> RatingPeriod:
    code = (code or "").strip().upper()
    starts, ends = period_bounds(code)
    period = db.session.scalar(select(RatingPeriod).where(RatingPeriod.code == code))
    if period is None:
        period = RatingPeriod(code=code, starts_on=starts, ends_on=ends)
        db.session.add(period)
        db.session.flush()
        record_audit("credit.period.create", "credit_rating_period", period.id, after={"code": code})
    return period


def get_period(code: str) -> RatingPeriod:
    period = db.session.scalar(select(RatingPeriod).where(RatingPeriod.code == (code or "").strip().upper()))
    if period is None:
        raise NotFound(f"rating period {code} not found")
    return period


def period_code_of(day: date) -> str:
    """The quarter a day falls in, as a period code (2026-Q4)."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def default_run_period(today: Optional[date] = None) -> str:
    """The period a rating run offers first: the period of the ratings waiting for review (the
    newest such period), else the current quarter. So the run form and the queue agree."""
    waiting = db.session.scalar(select(RatingPeriod.code).join(Rating, Rating.period_id == RatingPeriod.id)
                                .where(Rating.state.in_(("computed", "returned")))
                                .order_by(RatingPeriod.ends_on.desc()).limit(1))
    return waiting or period_code_of(today or business_today())


def start_rating_run(period_code: str, *, actor: Optional[User] = None) -> RatingRun:
    """Queue a rating run over all parties (an rq job; inline without Redis)."""
    from greenfin.jobs import enqueue

    actor = actor if actor is not None else _actor()
    period = get_or_create_period(period_code)
    if period.starts_on > business_today():
        raise ValidationFailed.field("period", "the period has not started yet")
    run = RatingRun(period_id=period.id, status="queued", created_by=_actor_label(actor))
    db.session.add(run)
    db.session.flush()
    job = enqueue("credit.jobs.run_rating", {"run_id": run.id}, title=f"Eco-credit rating {period.code}",
                  subject=("credit.review", {"period": period.code}))
    db.session.flush()  # the job row first: the run points at it
    run.job_id = job.id
    record_audit("credit.rating_run.start", "credit_rating_run", run.id, after={"period": period.code, "job": job.id})
    return run


def rate_all(run: RatingRun, progress: Optional[Callable[..., None]] = None) -> int:
    """Compute every party's level for the run's period.

    Ratings still ``computed`` are recomputed; ones a regulator already moved on are
    left alone, so the job may run twice.
    """
    period = run.period
    on = min(period.ends_on, business_today())
    totals = scores(on)
    vetoes = active_vetoes(on)
    existing = {r.party_id: r for r in db.session.scalars(select(Rating).where(Rating.period_id == period.id))}
    parties = list(db.session.execute(select(Party.id, Party.kind).order_by(Party.id)))
    rated = 0
    for index, (party_id, kind) in enumerate(parties, start=1):
        points = totals.get(party_id, 0)
        veto = vetoes.get(party_id)
        colour = colour_for(kind, points, veto is not None)
        rating = existing.get(party_id)
        if rating is None:
            rating = Rating(period_id=period.id, party_id=party_id, certificate_code=secrets.token_hex(8),
                            state="computed", points=points, computed_colour=colour, colour=colour)
            db.session.add(rating)
        elif rating.state not in ("computed", "returned"):
            continue
        rating.state = "computed"
        rating.run_id, rating.points, rating.computed_colour, rating.colour = run.id, points, colour, colour
        rating.veto_rule_code, rating.computed_at = veto, utcnow()
        rated += 1
        if index % 500 == 0:
            db.session.flush()  # write as we go, so that the progress bar tells the truth
        if progress and index % 50 == 0:
            progress(int(100 * index / max(1, len(parties))), "rating", index, len(parties))
    run.status, run.rated, run.finished_at = "finished", rated, utcnow()
    db.session.flush()
    record_audit("credit.rating_run.finish", "credit_rating_run", run.id,
                 after={"period": period.code, "rated": rated, "as_of": on})
    return rated


def get_rating(rating_id: int) -> Rating:
    rating = db.session.get(Rating, rating_id)
    if rating is None:
        raise NotFound(f"rating {rating_id} not found")
    return rating


def rating_query(*, period: Optional[str] = None, state: Optional[str] = None, colour: Optional[str] = None,
                 party_id: Optional[int] = None, township: Optional[str] = None) -> Select:
    stmt = select(Rating).join(RatingPeriod).join(Party, Party.id == Rating.party_id).order_by(
        RatingPeriod.ends_on.desc(), Rating.id)
    if period:
        stmt = stmt.where(RatingPeriod.code == period.upper())
    if state:
        stmt = stmt.where(Rating.state == state)
    if colour:
        stmt = stmt.where(Rating.colour == colour)
    if party_id is not None:
        stmt = stmt.where(Rating.party_id == party_id)
    if township:
        stmt = stmt.where(Party.township_code == township)
    return stmt


def _snapshot(rating: Rating) -> dict:
    return {"state": rating.state, "colour": rating.colour, "hidden": rating.hidden}


def _open_blockers(rating: Rating) -> list[str]:
    blockers = []
    if db.session.scalar(select(RatingObjection.id).where(RatingObjection.rating_id == rating.id,
                                                          RatingObjection.status == "open").limit(1)):
        blockers.append("an objection is open")
    if db.session.scalar(select(RatingOverride.id).where(RatingOverride.rating_id == rating.id,
                                                         RatingOverride.status == "pending").limit(1)):
        blockers.append("an override waits for a second regulator")
    return blockers


def approve_rating(rating_id: int, *, actor: Optional[User] = None, now: Optional[datetime] = None) -> Rating:
    """Regulator review passed: the level goes on public notice (公示)."""
    actor = actor if actor is not None else _actor()
    now = now or utcnow()
    rating = get_rating(rating_id)
    if rating.state != "computed":
        raise Conflict(f"rating {rating_id} is {rating.state}, not waiting for review")
    blockers = _open_blockers(rating)
    if blockers:
        raise Conflict(f"rating {rating_id} cannot go on notice: " + "; ".join(blockers))
    before = _snapshot(rating)
    rating.state, rating.reviewed_by_id = "notice", actor.id if actor else None
    rating.notice_starts_at, rating.notice_ends_at = now, now + timedelta(days=_setting("CREDIT_NOTICE_DAYS"))
    db.session.flush()
    record_audit("credit.rating.notice", "credit_rating", rating.id, before=before,
                 after=_snapshot(rating) | {"notice_ends_at": rating.notice_ends_at}, party_id=rating.party_id)
    return rating


def return_rating(rating_id: int, note: str, *, actor: Optional[User] = None) -> Rating:
    """Regulator review did not pass: the computed rating goes back (``returned``, with the note
    in its audit event); the next rating run of the period computes it again."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.field("note", N_("say why the rating goes back"))
    rating = get_rating(rating_id)
    if rating.state != "computed":
        raise Conflict(f"rating {rating_id} is {rating.state}, not waiting for review")
    before = _snapshot(rating)
    rating.state = "returned"
    db.session.flush()
    record_audit("credit.rating.return", "credit_rating", rating.id, before=before,
                 after=_snapshot(rating) | {"note": note[:2000]}, party_id=rating.party_id, actor=actor)
    return rating


def review_ratings(rating_ids: list[int], decision: str, *, note: str = "", actor: Optional[User] = None,
                   now: Optional[datetime] = None) -> list[Rating]:
    """Approve (public notice) or return many computed ratings at once: one audit event per rating,
    all or none (a rating that cannot move refuses the lot, naming it)."""
    if decision not in REVIEW_DECISIONS:
        raise ValidationFailed.field("decision", N_("must be approve or return"))
    ids = list(dict.fromkeys(int(i) for i in rating_ids or ()))
    if not ids:
        raise ValidationFailed.field("rating_ids", N_("choose at least one rating"))
    if len(ids) > 500:
        raise ValidationFailed.field("rating_ids", N_("at most 500 ratings at once"))
    done, refused = [], []
    for rating_id in ids:
        try:
            done.append(approve_rating(rating_id, actor=actor, now=now) if decision == "approve"
                        else return_rating(rating_id, note, actor=actor))
        except NotFound:
            refused.append(f"#{rating_id}")
        except Conflict:
            rating = db.session.get(Rating, rating_id)
            refused.append(f"#{rating_id} {rating.party.name}")
    if refused:
        raise Conflict(N_("Nothing was changed: some of the chosen ratings cannot move now"), {"rating_ids": refused})
    return done


def publish_rating(rating_id: int, *, actor: Optional[User] = None, now: Optional[datetime] = None) -> Rating:
    """Publish after the notice ended with no objection or override open."""
    now = now or utcnow()
    rating = get_rating(rating_id)
    if rating.state != "notice":
        raise Conflict(f"rating {rating_id} is {rating.state}; only ratings on notice can be published")
    if rating.notice_ends_at > now:
        raise Conflict(f"the public notice runs until {rating.notice_ends_at:%Y-%m-%d %H:%M} UTC")
    blockers = _open_blockers(rating)
    if blockers:
        raise Conflict(f"rating {rating_id} cannot be published: " + "; ".join(blockers))
    before = _snapshot(rating)
    rating.state, rating.published_at = "published", now
    db.session.flush()
    record_audit("credit.rating.publish", "credit_rating", rating.id, before=before, after=_snapshot(rating),
                 party_id=rating.party_id, actor=actor)
    return rating


def publish_due_ratings(now: Optional[datetime] = None) -> int:
    """Publish every rating whose notice is over and has nothing open; returns how many."""
    now = now or utcnow()
    count = 0
    for rating in list(db.session.scalars(select(Rating).where(Rating.state == "notice",
                                                               Rating.notice_ends_at <= now))):
        if not _open_blockers(rating):
            publish_rating(rating.id, now=now)
            count += 1
    return count


# ---------------------------------------------------------------- objections


def file_objection(rating_id: int, text: str, *, actor: Optional[User] = None,
                   now: Optional[datetime] = None) -> RatingObjection:
    """异议: the party objects during the public notice; a regulator must answer by the deadline."""
    actor = actor if actor is not None else _actor()
    now = now or utcnow()
    rating = get_rating(rating_id)
    if actor is not None and actor.role == "producer" and actor.party_id != rating.party_id:
        raise NotFound(f"rating {rating_id} not found")
    if not (text or "").strip():
        raise ValidationFailed.field("text", "say what is wrong and why")
    if rating.state != "notice" or rating.notice_ends_at <= now:
        raise Conflict("objections are accepted only during the public notice")
    objection = RatingObjection(rating_id=rating.id, party_id=rating.party_id, text=text.strip()[:4000],
                                filed_by=_actor_label(actor), filed_at=now,
                                deadline=now + timedelta(days=_setting("CREDIT_OBJECTION_DAYS")), status="open")
    db.session.add(objection)
    db.session.flush()
    record_audit("credit.objection.file", "credit_objection", objection.id, party_id=rating.party_id,
                 after={"rating_id": rating.id, "deadline": objection.deadline})
    return objection


def get_objection(objection_id: int) -> RatingObjection:
    objection = db.session.get(RatingObjection, objection_id)
    if objection is None:
        raise NotFound(f"objection {objection_id} not found")
    return objection


def objection_query(*, status: Optional[str] = "open", party_id: Optional[int] = None) -> Select:
    stmt = select(RatingObjection).order_by(RatingObjection.deadline)
    if status:
        stmt = stmt.where(RatingObjection.status == status)
    if party_id is not None:
        stmt = stmt.where(RatingObjection.party_id == party_id)
    return stmt


def answer_objection(objection_id: int, *, decision: str, answer: str, new_colour: Optional[str] = None,
                     actor: Optional[User] = None, now: Optional[datetime] = None) -> RatingObjection:
    """Uphold (optionally with a corrected level; the notice starts again) or dismiss."""
    actor = actor if actor is not None else _actor()
    now = now or utcnow()
    objection = get_objection(objection_id)
    errors: dict[str, list[str]] = {}
    if decision not in ("upheld", "dismissed"):
        errors["decision"] = ["must be upheld or dismissed"]
    if not (answer or "").strip():
        errors["answer"] = ["is required"]
    if new_colour is not None and (new_colour not in COLOURS or decision != "upheld"):
        errors["new_colour"] = ["a new level is given only when upholding, as green, blue, yellow or red"]
    if errors:
        raise ValidationFailed("Invalid answer", errors)
    if objection.status != "open":
        raise Conflict(f"objection {objection_id} was already answered")
    rating = objection.rating
    before = _snapshot(rating)
    objection.status, objection.answer = decision, answer.strip()
    objection.answered_by_id, objection.answered_at = actor.id if actor else None, now
    if decision == "upheld" and new_colour and new_colour != rating.colour:
        rating.colour = new_colour
        rating.notice_starts_at, rating.notice_ends_at = now, now + timedelta(days=_setting("CREDIT_NOTICE_DAYS"))
    db.session.flush()
    record_audit("credit.objection.answer", "credit_objection", objection.id, party_id=objection.party_id,
                 before=before, after=_snapshot(rating) | {"decision": decision, "late": now > objection.deadline})
    return objection


# ---------------------------------------------------------------- overrides (four eyes)


def request_override(rating_id: int, *, to_colour: str, reason: str, actor: Optional[User] = None) -> RatingOverride:
    actor = actor if actor is not None else _actor()
    rating = get_rating(rating_id)
    errors: dict[str, list[str]] = {}
    if to_colour not in COLOURS:
        errors["to_colour"] = ["must be green, blue, yellow or red"]
    elif to_colour == rating.colour:
        errors["to_colour"] = ["is the current level"]
    if not (reason or "").strip():
        errors["reason"] = ["an override needs a reason"]
    if errors:
        raise ValidationFailed("Invalid override", errors)
    if actor is None:
        raise Forbidden("an override is requested by a signed-in regulator")
    if db.session.scalar(select(RatingOverride.id).where(
            RatingOverride.rating_id == rating.id, RatingOverride.status == "pending")):
        raise Conflict("an override of this rating already waits for approval")
    override = RatingOverride(rating_id=rating.id, from_colour=rating.colour, to_colour=to_colour,
                              reason=reason.strip(), requested_by_id=actor.id, requested_at=utcnow(),
                              status="pending")
    db.session.add(override)
    db.session.flush()
    record_audit("credit.override.request", "credit_override", override.id, party_id=rating.party_id,
                 after={"rating_id": rating.id, "from": override.from_colour, "to": to_colour, "reason": override.reason})
    return override


def get_override(override_id: int) -> RatingOverride:
    override = db.session.get(RatingOverride, override_id)
    if override is None:
        raise NotFound(f"override {override_id} not found")
    return override


def decide_override(override_id: int, *, approve: bool, actor: Optional[User] = None) -> RatingOverride:
    """A second regulator (not the one who asked) approves or rejects the override."""
    actor = actor if actor is not None else _actor()
    override = get_override(override_id)
    if override.status != "pending":
        raise Conflict(f"override {override_id} is already {override.status}")
    if actor is None or actor.id == override.requested_by_id:
        raise Forbidden("a second regulator must decide an override")
    rating = override.rating
    before = _snapshot(rating)
    override.status = "approved" if approve else "rejected"
    override.decided_by_id, override.decided_at = actor.id, utcnow()
    if approve:
        rating.colour = override.to_colour
    db.session.flush()
    record_audit(f"credit.override.{override.status}", "credit_override", override.id, party_id=rating.party_id,
                 before=before, after=_snapshot(rating))
    return override


# ---------------------------------------------------------------- credit repair


def apply_repair(rating_id: int, statement: str, *, actor: Optional[User] = None) -> CreditRepair:
    """信用修复: the party shows it corrected the fault and asks for the record to leave public view."""
    actor = actor if actor is not None else _actor()
    rating = get_rating(rating_id)
    if actor is not None and actor.role == "producer" and actor.party_id != rating.party_id:
        raise NotFound(f"rating {rating_id} not found")
    if not (statement or "").strip():
        raise ValidationFailed.field("statement", "describe the correction made and attach references")
    if rating.state != "published" or rating.colour not in ("yellow", "red") or rating.hidden:
        raise Conflict("credit repair applies to a published yellow or red rating still shown publicly")
    if db.session.scalar(select(CreditRepair.id).where(CreditRepair.rating_id == rating.id,
                                                       CreditRepair.status == "pending")):
        raise Conflict("a repair application for this rating is already under review")
    repair = CreditRepair(rating_id=rating.id, party_id=rating.party_id, statement=statement.strip()[:4000],
                          filed_by=_actor_label(actor), filed_at=utcnow(), status="pending")
    db.session.add(repair)
    db.session.flush()
    record_audit("credit.repair.apply", "credit_repair", repair.id, party_id=rating.party_id,
                 after={"rating_id": rating.id})
    return repair


def get_repair(repair_id: int) -> CreditRepair:
    repair = db.session.get(CreditRepair, repair_id)
    if repair is None:
        raise NotFound(f"repair {repair_id} not found")
    return repair


def repair_query(*, status: Optional[str] = "pending", party_id: Optional[int] = None) -> Select:
    stmt = select(CreditRepair).order_by(CreditRepair.filed_at)
    if status:
        stmt = stmt.where(CreditRepair.status == status)
    if party_id is not None:
        stmt = stmt.where(CreditRepair.party_id == party_id)
    return stmt


def decide_repair(repair_id: int, *, approve: bool, note: str, actor: Optional[User] = None) -> CreditRepair:
    """Approve: the rating is hidden from public view (never deleted); reject: it stays."""
    actor = actor if actor is not None else _actor()
    repair = get_repair(repair_id)
    if repair.status != "pending":
        raise Conflict(f"repair {repair_id} is already {repair.status}")
    if not (note or "").strip():
        raise ValidationFailed.field("note", "record the review's finding")
    rating = repair.rating
    before = _snapshot(rating)
    repair.status = "approved" if approve else "rejected"
    repair.reviewed_by_id, repair.reviewed_at, repair.note = actor.id if actor else None, utcnow(), note.strip()
    if approve:
        rating.hidden = True
    db.session.flush()
    record_audit(f"credit.repair.{repair.status}", "credit_repair", repair.id, party_id=repair.party_id,
                 before=before, after=_snapshot(rating))
    return repair


# ---------------------------------------------------------------- reading ratings


def _public_ratings() -> Select:
    return (select(Rating).join(RatingPeriod).where(Rating.state == "published", Rating.hidden.is_(False))
            .order_by(RatingPeriod.ends_on.desc(), Rating.published_at.desc(), Rating.id.desc()))


def current_rating(party_id: int) -> Optional[PublishedRating]:
    """The party's latest published rating still shown publicly, or None."""
    rating = db.session.scalar(_public_ratings().where(Rating.party_id == party_id).limit(1))
    if rating is None:
        return None
    return PublishedRating(colour=rating.colour, period=rating.period.code, published_at=rating.published_at,
                           points=rating.points, rating_id=rating.id)


def latest_rating(party_id: int) -> Optional[Rating]:
    """The party's newest rating in any state (for staff and the party itself)."""
    return db.session.scalar(rating_query(party_id=party_id).limit(1))


def public_rating_query(q: Optional[str] = None, period: Optional[str] = None) -> Select:
    """Published, not repaired ratings; firms and organisations by name or credit code, individuals
    only by their full resident ID number (a name search would confirm a guessed person's rating)."""
    stmt = _public_ratings().join(Party, Party.id == Rating.party_id)
    if period:
        stmt = stmt.where(RatingPeriod.code == period.upper())
    q = (q or "").strip()
    if q:
        person = _individual_by_id_number(q)
        stmt = stmt.where(or_(Party.uscc == q.upper(),
                              (Party.kind != "individual") & Party.name.contains(q),
                              Party.id == (person.id if person is not None else None)))
    return stmt


def _individual_by_id_number(q: str) -> Optional[Party]:
    try:
        person = find_party_by_resident_id(q)
    except InvalidIdentifier:
        return None
    return person if person is not None and person.kind == "individual" else None


def rating_by_certificate(code: str) -> Rating:
    rating = db.session.scalar(_public_ratings().where(Rating.certificate_code == (code or "")[:32]))
    if rating is None:
        raise NotFound("no published rating has this certificate code")
    return rating


def masked_name(party: Party) -> str:
    """Individuals are shown masked in public (周建华 -> 周*华)."""
    if party.kind != "individual":
        return party.name
    name = party.name
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def public_identifier(party: Party) -> str:
    return party.uscc if party.kind != "individual" else (party.id_masked or "")


def distribution_by_township(period_id: int) -> dict[str, dict[str, int]]:
    """{township_code: {colour: count}} for a period (all states)."""
    rows = db.session.execute(select(Party.township_code, Rating.colour, func.count(Rating.id))
                              .join(Party, Party.id == Rating.party_id).where(Rating.period_id == period_id)
                              .group_by(Party.township_code, Rating.colour))
    result: dict[str, dict[str, int]] = {}
    for township, colour, count in rows:
        result.setdefault(township, {c: 0 for c in COLOURS})[colour] = count
    return result


def distribution_over_time() -> list[tuple[str, dict[str, int]]]:
    """[(period code, {colour: count})] oldest first."""
    rows = db.session.execute(select(RatingPeriod.code, RatingPeriod.ends_on, Rating.colour, func.count(Rating.id))
                              .join(Rating, Rating.period_id == RatingPeriod.id)
                              .group_by(RatingPeriod.code, RatingPeriod.ends_on, Rating.colour)
                              .order_by(RatingPeriod.ends_on))
    periods: dict[str, dict[str, int]] = {}
    for code, _ends, colour, count in rows:
        periods.setdefault(code, {c: 0 for c in COLOURS})[colour] = count
    return list(periods.items())


def review_counts() -> dict[str, int]:
    from credit.models import CreditPendingPosting

    return {
        "ratings": db.session.scalar(select(func.count(Rating.id)).where(Rating.state == "computed")) or 0,
        "returned": db.session.scalar(select(func.count(Rating.id)).where(Rating.state == "returned")) or 0,
        "pending": db.session.scalar(select(func.count(CreditPendingPosting.id)).where(
            CreditPendingPosting.status == "pending")) or 0,
        "objections": db.session.scalar(select(func.count(RatingObjection.id)).where(
            RatingObjection.status == "open")) or 0,
        "overrides": db.session.scalar(select(func.count(RatingOverride.id)).where(
            RatingOverride.status == "pending")) or 0,
        "repairs": db.session.scalar(select(func.count(CreditRepair.id)).where(CreditRepair.status == "pending")) or 0,
    }
