"""The points ledger: postings, pending approvals and reversals (balances: ``credit.balances``).

Functions add and flush, never commit. Appending to an account locks its row
(``SELECT ... FOR UPDATE`` on PostgreSQL, or the function ``credit_append_posting``),
so chains of different accounts grow in parallel and one account's postings are
strictly sequenced. The rule catalogue lives in ``credit.rules``, verification and
checkpoints in ``credit.integrity``.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional

import orjson
from flask import g, has_request_context
from sqlalchemy import Date, Integer, Select, String, column, literal, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from credit.common import _actor, _actor_label, add_months, setting, today
from credit.models import GENESIS_HASH, CreditAccount, CreditPendingPosting, CreditPosting, CreditRule
from credit.rules import get_rule, rule_applies
from greenfin.core.models import Party, User
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.metrics import count_posting

# ---------------------------------------------------------------- canonical forms and hashes


_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _canonical(value: dict) -> str:
    """Sorted keys, no spaces, non-ASCII as is, anything else by ``str``: the text every hash covers.

    The definition is ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    default=str)`` (what the stored chains were hashed with, and the text ``credit_append_posting``
    hashes as it comes). orjson writes the same bytes, a tenth of the cost, for what the canonical
    forms hold: text keys; text, integers, None and lists and objects of them
    (``tests/credit/test_ledger_properties.py::test_canonical_json_is_the_standard_librarys``).
    Dates and times go to ``str`` as before; what orjson refuses (an integer beyond 64 bits, a lone
    surrogate, a key that is not text) takes the standard library. No float reaches a hash (money
    never is one), and orjson would write some of them differently.
    """
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_CANONICAL).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def body_json(*, party_id: int, rule_code: str, effective_date: date, recorded_at: datetime, evidence: Optional[dict],
              entered_by_id: Optional[int], entered_by: str, approved_by_id: Optional[int], source: str, source_id: str,
              idempotency_key: str, request_hash: str, reverses_id: Optional[int], reason: Optional[str]) -> str:
    """Canonical JSON of a posting's stored fields other than its place in the chain and what its rule decides."""
    return _canonical({
        "party_id": party_id, "rule_code": rule_code, "effective_date": effective_date.isoformat(),
        "recorded_at": recorded_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "evidence": evidence or {}, "entered_by_id": entered_by_id, "entered_by": entered_by,
        "approved_by_id": approved_by_id, "source": source, "source_id": source_id,
        "idempotency_key": idempotency_key, "request_hash": request_hash, "reverses_id": reverses_id,
        "reason": reason,
    })


def canonical_body(p: CreditPosting) -> str:
    """The body of a stored or new posting (see ``body_json``)."""
    return body_json(
        party_id=p.party_id, rule_code=p.rule_code, effective_date=p.effective_date, recorded_at=p.recorded_at,
        evidence=p.evidence, entered_by_id=p.entered_by_id, entered_by=p.entered_by, approved_by_id=p.approved_by_id,
        source=p.source, source_id=p.source_id, idempotency_key=p.idempotency_key, request_hash=p.request_hash,
        reverses_id=p.reverses_id, reason=p.reason)


def canonical_posting(p: CreditPosting) -> str:
    """What a posting's hash covers: ``account_id|seq|rule_id|points|expires_on|body``.

    The PostgreSQL function ``credit_append_posting`` (migration credit_0004) builds
    the same text from the body this module computes and the rule it looks up.
    """
    return posting_canonical(p.account_id, p.seq, p.rule_id, p.points, p.expires_on, canonical_body(p))


def posting_canonical(account_id: int, seq: int, rule_id: int, points: int, expires_on: date, body: str) -> str:
    """``canonical_posting`` from the parts (the bulk path, ``credit.bulk``, has no instance)."""
    return f"{account_id}|{seq}|{rule_id}|{points}|{expires_on.isoformat()}|{body}"


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical).encode()).hexdigest()


def request_hash(**content: Any) -> str:
    """What an idempotency key promises: the same key must come with the same content."""
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


def _clean_evidence(evidence: Any, errors: dict) -> dict:
    """Evidence is a flat object of strings or lists of strings (document numbers, inspector...)."""
    if evidence is None:
        return {}
    if not isinstance(evidence, dict):
        errors["evidence"] = ["must be an object"]
        return {}
    clean: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, str):
            clean[str(key)] = value.strip()[:500]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            clean[str(key)] = [v.strip()[:200] for v in value][:20]
        else:
            errors.setdefault("evidence", []).append(f"{key}: use text or a list of texts")
    # A character takes at most 6 in JSON (\\u0001), a key and its punctuation at most 6 more per text:
    # short evidence (every CSV row's) cannot reach the limit, so only longer evidence is serialised.
    texts = sum(len(k) + (len(v) if isinstance(v, str) else sum(map(len, v)) + len(v)) for k, v in clean.items())
    if 6 * texts + 12 * (len(clean) + 1) > 4000 and len(_canonical(clean)) > 4000:
        errors.setdefault("evidence", []).append("is too long")
    return clean


# ---------------------------------------------------------------- accounts and the append


def _insert_ignoring_conflict(model, values: dict, key: str):
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])


def lock_account(party_id: int, key: Optional[str] = None) -> tuple[CreditAccount, str, bool]:
    """Lock the party's account row until the commit (created on first use).

    Returns the account, the party's kind and whether ``key`` is already used by a
    posting or a pending request: one round trip when the account exists. The row
    lock is the only serialisation, per account.
    """
    seen = literal(False)
    if key is not None:
        seen = or_(select(CreditPosting.id).where(CreditPosting.idempotency_key == key).exists(),
                   select(CreditPendingPosting.id).where(CreditPendingPosting.idempotency_key == key).exists())
    stmt = (select(CreditAccount, Party.kind, seen.label("seen")).join(Party, Party.id == CreditAccount.party_id)
            .where(CreditAccount.party_id == party_id).with_for_update(of=CreditAccount)
            .execution_options(populate_existing=True))
    row = db.session.execute(stmt).first()
    if row is None:
        _party(party_id)
        db.session.execute(_insert_ignoring_conflict(
            CreditAccount, {"party_id": party_id, "balance": 0, "posting_count": 0, "last_hash": GENESIS_HASH,
                            "updated_at": utcnow()}, "party_id"))
        row = db.session.execute(stmt).first()
    return row[0], row[1], bool(row[2])


def _find_by_key(key: str):
    """The posting or pending request already made with this idempotency key (one round trip)."""
    hit = db.session.execute(
        select(literal("posting").label("kind"), CreditPosting.id).where(CreditPosting.idempotency_key == key)
        .union_all(select(literal("pending"), CreditPendingPosting.id)
                   .where(CreditPendingPosting.idempotency_key == key))).first()
    if hit is None:
        return None
    return db.session.get(CreditPosting if hit[0] == "posting" else CreditPendingPosting, hit[1])


def _replay(existing, digest: str, key: str):
    if existing.request_hash != digest:
        raise Conflict(f"idempotency key {key} was used with different content", code="idempotency_conflict")
    return existing


def _append(account: CreditAccount, *, rule: CreditRule, points: int, effective_date: date, expires_on: date,
            evidence: dict, source: str, source_id: str, key: str, digest: str, entered_by: Optional[User],
            entered_label: str, approved_by: Optional[User] = None, reverses_id: Optional[int] = None,
            reason: Optional[str] = None) -> CreditPosting:
    """Append one posting to a locked account's chain and update the cached balance."""
    posting = CreditPosting(
        account_id=account.id, seq=account.posting_count + 1, party_id=account.party_id, rule_id=rule.id,
        rule_code=rule.code, points=points, effective_date=effective_date, expires_on=expires_on,
        recorded_at=utcnow(), evidence=evidence, entered_by_id=entered_by.id if entered_by else None,
        entered_by=entered_label, approved_by_id=approved_by.id if approved_by else None, source=source,
        source_id=source_id, idempotency_key=key, request_hash=digest, reverses_id=reverses_id, reason=reason,
        prev_hash=account.last_hash,
    )
    posting.hash = chain_hash(posting.prev_hash, canonical_posting(posting))
    db.session.add(posting)
    account.balance += points
    account.posting_count = posting.seq
    account.last_hash = posting.hash
    account.updated_at = posting.recorded_at
    db.session.flush()
    record_audit("credit.posting.create", "credit_posting", posting.id, party_id=posting.party_id,
                 after={"rule_code": rule.code, "points": points, "effective_date": effective_date,
                        "source": source, "source_id": source_id, "reverses_id": reverses_id, "hash": posting.hash})
    count_posting()
    return posting


# Typed result columns let SQLAlchemy reuse the result metadata of the cached statement
# instead of rebuilding it from the cursor description on every posting.
_APPEND_SQL = text(
    "SELECT * FROM credit_append_posting(:body, CAST(:review_above AS integer), :request_id)"
).columns(column("o_status", String), column("o_kind", String), column("o_posting_id", Integer),
          column("o_account_id", Integer), column("o_seq", Integer), column("o_prev_hash", String),
          column("o_hash", String), column("o_rule_id", Integer), column("o_points", Integer),
          column("o_expires", Date))


def _append_in_database(party_id: int, rule_code: str, *, effective_date: date, evidence: dict, source: str,
                        source_id: str, key: str, digest: str, entered_by: Optional[User], entered_label: str,
                        review_above: Optional[int]):
    """PostgreSQL: rule lookup, lock, idempotency check, chain append, balance and audit in one round trip.

    The function (migration credit_0004) stores the posting's fields from the very
    body it hashes. Returns the stored posting's column values, or a status for the
    general path: ``seen`` (key used), ``review`` (the rule's points need a
    regulator) or ``no_rule``.
    """
    values = dict(
        party_id=party_id, rule_code=rule_code, effective_date=effective_date, recorded_at=utcnow(),
        evidence=evidence, entered_by_id=entered_by.id if entered_by else None, entered_by=entered_label,
        approved_by_id=None, source=source, source_id=source_id, idempotency_key=key, request_hash=digest,
        reverses_id=None, reason=None)
    row = db.session.execute(_APPEND_SQL, {
        "body": body_json(**values), "review_above": review_above,
        "request_id": g.get("request_id") if has_request_context() else None,
    }).one()
    if row.o_status == "no_party":
        raise NotFound(f"party {party_id} not found")
    if row.o_status == "kind":
        raise ValidationFailed("Invalid posting", {"rule_code": [f"rule {rule_code} does not apply to a {row.o_kind}"]})
    if row.o_status != "ok":
        return row.o_status
    values.update(id=row.o_posting_id, account_id=row.o_account_id, seq=row.o_seq, rule_id=row.o_rule_id,
                  points=row.o_points, expires_on=row.o_expires, prev_hash=row.o_prev_hash, hash=row.o_hash)
    cached = db.session.identity_map.get(db.session.identity_key(CreditAccount, row.o_account_id))
    if cached is not None:
        db.session.expire(cached)
    count_posting()
    return values


def _stored_posting(values: dict) -> CreditPosting:
    """The session's instance of a posting the database function stored (no query, no second INSERT)."""
    key = db.session.identity_key(CreditPosting, values["id"])
    posting = db.session.identity_map.get(key)
    if posting is None:
        posting = CreditPosting(**values)
        make_transient_to_detached(posting)
        db.session.add(posting)  # persistent, as if loaded
    return posting


# ---------------------------------------------------------------- posting


class PostingResult:
    """What a write produced: a posting, or a pending request waiting for a regulator.

    After the PostgreSQL append the result holds the stored posting's values; the
    ORM instance is made (and joins the session) when a caller first reads
    ``posting`` (about a sixth of the client's CPU per posting). Writers that only
    need the status, such as the CSV import and the posting form, skip that work.
    """

    def __init__(self, status: str, posting: Optional[CreditPosting] = None,
                 pending: Optional[CreditPendingPosting] = None, replayed: bool = False,
                 stored: Optional[dict] = None) -> None:
        self.status = status  # "posted" | "pending"
        self.pending = pending
        self.replayed = replayed
        self._posting = posting
        self._stored = stored

    @property
    def posting(self) -> Optional[CreditPosting]:
        if self._posting is None and self._stored is not None:
            self._posting = _stored_posting(self._stored)
        return self._posting

    @property
    def record(self):
        return self.posting if self.posting is not None else self.pending

    def __repr__(self) -> str:
        return f"PostingResult({self.status!r}, replayed={self.replayed})"


def _party(party_id: Any) -> Party:
    party = db.session.get(Party, party_id) if isinstance(party_id, int) else None
    if party is None:
        raise NotFound(f"party {party_id} not found")
    return party


def _effective(value: Optional[date], errors: dict, on: Optional[date] = None,
               max_days: Optional[int] = None) -> date:
    """The effective date (default today); ``on`` and ``max_days`` let a batch read them once."""
    now = on or today()
    day = value or now
    if day > now:
        errors["effective_date"] = ["cannot be in the future"]
    elif (now - day).days > (max_days if max_days is not None else setting("CREDIT_MAX_BACKDATE_DAYS")):
        errors["effective_date"] = ["is more than three years ago"]
    return day


def needs_review(points: int) -> bool:
    """Negative postings and large positive ones wait for a regulator."""
    return points < 0 or points > setting("CREDIT_REVIEW_ABOVE")


def submit_posting(party_id: int, rule_code: str, *, idempotency_key: str, effective_date: Optional[date] = None,
                   evidence: Optional[dict] = None, source: str = "manual", source_id: Optional[str] = None,
                   actor: Optional[User] = None, review: bool = True) -> PostingResult:
    """Record points for a party under a rule, idempotently on ``idempotency_key``.

    The same key with the same content returns what the first call produced;
    with different content it is a Conflict. With ``review`` (manual entries),
    negative and large positive postings wait for a regulator.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise ValidationFailed.field("idempotency_key", "is required (at most 200 characters)")
    if not isinstance(party_id, int) or isinstance(party_id, bool):
        raise NotFound(f"party {party_id!r} not found")  # "12" would be hashed as text but stored as 12
    actor = actor if actor is not None else _actor()
    errors: dict[str, list[str]] = {}
    clean = _clean_evidence(evidence, errors)
    code = (rule_code or "").strip().upper()
    digest = request_hash(party_id=party_id, rule_code=code,
                          effective_date=effective_date.isoformat() if effective_date else None, evidence=clean)

    def earlier() -> Optional[PostingResult]:
        existing = _find_by_key(key)
        return None if existing is None else _result(_replay(existing, digest, key), replayed=True)

    day = _effective(effective_date, errors)
    source_id = (source_id or key)[:128]
    label = _actor_label(actor)
    if not errors and db.session.get_bind().dialect.name == "postgresql":
        # The common case in one round trip; "review", "no_rule" and "seen" continue below.
        outcome = _append_in_database(party_id, code, effective_date=day, evidence=clean, source=source,
                                      source_id=source_id, key=key, digest=digest, entered_by=actor,
                                      entered_label=label,
                                      review_above=setting("CREDIT_REVIEW_ABOVE") if review else None)
        if isinstance(outcome, dict):
            return PostingResult("posted", stored=outcome)
        if outcome == "seen":
            return earlier()
    rule = None
    if not errors.get("effective_date"):
        try:
            rule = get_rule(code, day)
        except NotFound:
            errors["rule_code"] = [f"unknown rule {rule_code}"]
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        replay = earlier()  # a retry replays even if the rule has since changed
        if replay is not None:
            return replay
        raise ValidationFailed("Invalid posting", errors)
    if review and needs_review(rule.points):
        replay = earlier()
        if replay is not None:
            return replay
        party = _party(party_id)
        _check_applies(rule, party.kind)
        pending = CreditPendingPosting(
            party_id=party.id, rule_id=rule.id, rule_code=rule.code, points=rule.points, effective_date=day,
            evidence=clean, source=source, source_id=source_id, idempotency_key=key, request_hash=digest,
            submitted_by_id=actor.id if actor else None, submitted_by=label, submitted_at=utcnow(),
            expires_at=utcnow() + timedelta(days=setting("CREDIT_PENDING_DAYS")), status="pending",
        )
        db.session.add(pending)
        db.session.flush()
        record_audit("credit.pending.create", "credit_pending_posting", pending.id, party_id=party.id,
                     after={"rule_code": rule.code, "points": rule.points, "effective_date": day, "key": key})
        return PostingResult("pending", pending=pending)
    # A concurrent twin with the same key blocks on the lock, then fails on the unique key:
    # callers roll back and call again, which replays the first posting.
    account, kind, seen = lock_account(party_id, key)
    if seen:
        return earlier()
    _check_applies(rule, kind)
    posting = _append(account, rule=rule, points=rule.points, effective_date=day,
                      expires_on=add_months(day, rule.display_months), evidence=clean, source=source,
                      source_id=source_id, key=key, digest=digest, entered_by=actor, entered_label=label)
    return PostingResult("posted", posting=posting)


def _check_applies(rule: CreditRule, kind: str) -> None:
    if not rule_applies(rule, kind):
        raise ValidationFailed("Invalid posting", {"rule_code": [f"rule {rule.code} does not apply to a {kind}"]})


def _result(record, replayed: bool = False) -> PostingResult:
    if isinstance(record, CreditPosting):
        return PostingResult("posted", posting=record, replayed=replayed)
    if record.status == "approved" and record.posting_id:
        return PostingResult("posted", posting=db.session.get(CreditPosting, record.posting_id),
                             pending=record, replayed=replayed)
    return PostingResult("pending", pending=record, replayed=replayed)


def post_event_points(party_id: int, rule_code: str, *, source: str, source_id: str,
                      effective_date: Optional[date] = None, evidence: Optional[dict] = None) -> CreditPosting:
    """Points for an event another capability recorded (certificate, loan, penalty notice).

    Idempotent on (source, source_id, rule_code): a retried event returns the first
    posting. The source record is the evidence, so these post at once; a regulator
    corrects one with a reversal.
    """
    if not source or not source_id:
        raise ValidationFailed("Invalid event", {"source": ["source and source_id are required"]})
    key = f"event:{source}:{source_id}:{(rule_code or '').strip().upper()}"
    evidence = dict(evidence or {})
    evidence.setdefault("source", f"{source}:{source_id}")
    result = submit_posting(party_id, rule_code, idempotency_key=key, effective_date=effective_date,
                            evidence=evidence, source=source[:32], source_id=str(source_id), review=False)
    return result.posting


def get_posting(posting_id: int) -> CreditPosting:
    posting = db.session.get(CreditPosting, posting_id)
    if posting is None:
        raise NotFound(f"posting {posting_id} not found")
    return posting


def reversal_of(posting_id: int) -> Optional[CreditPosting]:
    return db.session.scalar(select(CreditPosting).where(CreditPosting.reverses_id == posting_id))


def reverse_posting(posting_id: int, *, reason: str, idempotency_key: str,
                    actor: Optional[User] = None) -> PostingResult:
    """Correct a posting with a reversal that points at it.

    A regulator's reversal posts at once with the regulator as approver; anyone
    else's waits for a regulator. A reversal cannot be reversed, and a posting
    is reversed at most once (the database enforces it too).
    """
    actor = actor if actor is not None else _actor()
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise ValidationFailed.field("idempotency_key", "is required (at most 200 characters)")
    reason = (reason or "").strip()
    digest = request_hash(reverses_id=posting_id, reason=reason)
    existing = _find_by_key(key)
    if existing is not None:
        return _result(_replay(existing, digest, key), replayed=True)
    if not reason:
        raise ValidationFailed.field("reason", "a reversal needs a reason")
    original = get_posting(posting_id)
    if original.reverses_id is not None:
        raise Conflict(f"posting {posting_id} is itself a reversal and cannot be reversed", code="reversal_of_reversal")
    label = _actor_label(actor)
    if actor is None or actor.role != "regulator":
        _refuse_if_reversed(posting_id)
        if db.session.scalar(select(CreditPendingPosting.id).where(
                CreditPendingPosting.reverses_id == posting_id, CreditPendingPosting.status == "pending")):
            raise Conflict(f"a reversal of posting {posting_id} is already waiting for approval", code="already_reversed")
        pending = CreditPendingPosting(
            party_id=original.party_id, rule_id=original.rule_id, rule_code=original.rule_code,
            points=-original.points, effective_date=today(), evidence={}, source="reversal",
            source_id=str(original.id), idempotency_key=key, request_hash=digest, reverses_id=original.id,
            reason=reason, submitted_by_id=actor.id if actor else None, submitted_by=label, submitted_at=utcnow(),
            expires_at=utcnow() + timedelta(days=setting("CREDIT_PENDING_DAYS")), status="pending")
        db.session.add(pending)
        db.session.flush()
        record_audit("credit.pending.create", "credit_pending_posting", pending.id, party_id=original.party_id,
                     after={"reverses_id": original.id, "reason": reason, "key": key})
        return PostingResult("pending", pending=pending)
    account, _kind, _seen = lock_account(original.party_id)
    existing = _find_by_key(key)
    if existing is not None:
        return _result(_replay(existing, digest, key), replayed=True)
    _refuse_if_reversed(posting_id)
    posting = _post_reversal(account, original, reason=reason, key=key, digest=digest, entered_by=actor,
                             label=label, approver=actor)
    return PostingResult("posted", posting=posting)


def _refuse_if_reversed(posting_id: int) -> None:
    done = reversal_of(posting_id)
    if done is not None:
        raise Conflict(f"posting {posting_id} was already reversed by posting {done.id}", code="already_reversed")


def _post_reversal(account, original: CreditPosting, *, reason, key, digest, entered_by, label, approver):
    return _append(account, rule=original.rule, points=-original.points, effective_date=today(),
                   expires_on=original.expires_on, evidence={"reverses": str(original.id)}, source="reversal",
                   source_id=str(original.id), key=key, digest=digest, entered_by=entered_by, entered_label=label,
                   approved_by=approver, reverses_id=original.id, reason=reason)


# ---------------------------------------------------------------- pending postings


def get_pending(pending_id: int) -> CreditPendingPosting:
    pending = db.session.get(CreditPendingPosting, pending_id)
    if pending is None:
        raise NotFound(f"pending posting {pending_id} not found")
    return pending


def pending_query(*, status: Optional[str] = "pending", party_id: Optional[int] = None) -> Select:
    stmt = select(CreditPendingPosting).order_by(CreditPendingPosting.submitted_at)
    if status:
        stmt = stmt.where(CreditPendingPosting.status == status)
    if party_id is not None:
        stmt = stmt.where(CreditPendingPosting.party_id == party_id)
    return stmt


def _decidable(pending: CreditPendingPosting, actor: Optional[User], now: datetime) -> None:
    if pending.status != "pending":
        raise Conflict(f"pending posting {pending.id} is already {pending.status}")
    if pending.expires_at <= now:
        raise Conflict(f"pending posting {pending.id} expired on {pending.expires_at:%Y-%m-%d}", code="expired")
    if actor is not None and pending.submitted_by_id is not None and actor.id == pending.submitted_by_id:
        raise Forbidden("a second person must approve what you entered")


def approve_pending(pending_id: int, *, note: Optional[str] = None, actor: Optional[User] = None,
                    now: Optional[datetime] = None) -> CreditPosting:
    """A regulator approves: the posting (or reversal) enters the ledger."""
    actor = actor if actor is not None else _actor()
    now = now or utcnow()
    pending = get_pending(pending_id)
    account, _kind, _seen = lock_account(pending.party_id)
    db.session.refresh(pending, with_for_update=True)
    _decidable(pending, actor, now)
    if pending.reverses_id is not None:
        original = get_posting(pending.reverses_id)
        _refuse_if_reversed(original.id)
        posting = _post_reversal(account, original, reason=pending.reason, key=pending.idempotency_key,
                                 digest=pending.request_hash, entered_by=db.session.get(User, pending.submitted_by_id)
                                 if pending.submitted_by_id else None, label=pending.submitted_by, approver=actor)
    else:
        rule = db.session.get(CreditRule, pending.rule_id)
        posting = _append(account, rule=rule, points=pending.points, effective_date=pending.effective_date,
                          expires_on=add_months(pending.effective_date, rule.display_months),
                          evidence=pending.evidence, source=pending.source, source_id=pending.source_id,
                          key=pending.idempotency_key, digest=pending.request_hash,
                          entered_by=db.session.get(User, pending.submitted_by_id) if pending.submitted_by_id else None,
                          entered_label=pending.submitted_by, approved_by=actor)
    pending.status, pending.decided_by_id, pending.decided_at = "approved", actor.id if actor else None, now
    pending.decision_note, pending.posting_id = note, posting.id
    db.session.flush()
    record_audit("credit.pending.approve", "credit_pending_posting", pending.id, party_id=pending.party_id,
                 before={"status": "pending"}, after={"status": "approved", "posting_id": posting.id, "note": note})
    return posting


def reject_pending(pending_id: int, *, note: str, actor: Optional[User] = None,
                   now: Optional[datetime] = None) -> CreditPendingPosting:
    actor = actor if actor is not None else _actor()
    now = now or utcnow()
    if not (note or "").strip():
        raise ValidationFailed.field("note", "say why it is rejected")
    pending = get_pending(pending_id)
    _decidable(pending, None, now)
    pending.status, pending.decided_by_id, pending.decided_at = "rejected", actor.id if actor else None, now
    pending.decision_note = note.strip()
    db.session.flush()
    record_audit("credit.pending.reject", "credit_pending_posting", pending.id, party_id=pending.party_id,
                 before={"status": "pending"}, after={"status": "rejected", "note": pending.decision_note})
    return pending


def expire_pending(now: Optional[datetime] = None) -> int:
    """Close pending postings whose time ran out; returns how many."""
    now = now or utcnow()
    rows = list(db.session.scalars(select(CreditPendingPosting).where(
        CreditPendingPosting.status == "pending", CreditPendingPosting.expires_at <= now)))
    for pending in rows:
        pending.status, pending.decided_at = "expired", now
        record_audit("credit.pending.expire", "credit_pending_posting", pending.id, party_id=pending.party_id)
    db.session.flush()
    return len(rows)
