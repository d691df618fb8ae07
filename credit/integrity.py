"""Tamper evidence: recompute every hash chain and cached balance; signed daily checkpoints.

Each closed UTC day gets a ledger-wide head chained to the day before, signed with
``LEDGER_SIGNING_KEY`` (HMAC-SHA256; the key lives in the environment or the instance
folder, never in the database). The heads are published (``published_heads``) so
that anyone who saved them detects a later rewrite (``verify_against``).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Optional

from flask import current_app
from sqlalchemy import func, select

from greenfin.dates import utc_today
from credit.ledger import canonical_posting, chain_hash
from credit.models import GENESIS_HASH, CreditAccount, CreditCheckpoint, CreditPosting
from greenfin.core.services import record_audit
from greenfin.extensions import db


@dataclass
class VerifyReport:
    postings: int = 0
    accounts: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    first_broken_posting_id: Optional[int] = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _batched(stmt, size: int = 2000) -> Iterable:
    return db.session.execute(stmt.execution_options(yield_per=size)).scalars()


def verify_ledger() -> VerifyReport:
    """Recompute every chain, cached balance and checkpoint; report the first broken posting."""
    report = VerifyReport()
    accounts = {a.id: a for a in db.session.scalars(select(CreditAccount))}
    seen: dict[int, tuple[int, str, int]] = {}  # account_id -> (seq, last hash, sum)

    def broken(posting_id: Optional[int], message: str) -> None:
        if report.first_broken_posting_id is None and posting_id is not None:
            report.first_broken_posting_id = posting_id
        report.problems.append(message)

    stmt = select(CreditPosting).order_by(CreditPosting.account_id, CreditPosting.seq)
    for posting in _batched(stmt):
        report.postings += 1
        seq, prev, total = seen.get(posting.account_id, (0, GENESIS_HASH, 0))
        if posting.seq != seq + 1:
            broken(posting.id, f"posting {posting.id}: sequence {posting.seq} follows {seq} in account {posting.account_id}")
        if posting.prev_hash != prev:
            broken(posting.id, f"posting {posting.id}: previous hash does not match posting #{seq} of account {posting.account_id}")
        if chain_hash(posting.prev_hash, canonical_posting(posting)) != posting.hash:
            broken(posting.id, f"posting {posting.id}: content does not match its hash (altered)")
        seen[posting.account_id] = (posting.seq, posting.hash, total + posting.points)
        db.session.expunge(posting)
    for account_id, account in accounts.items():
        report.accounts += 1
        seq, last, total = seen.get(account_id, (0, GENESIS_HASH, 0))
        if (account.posting_count, account.last_hash, account.balance) != (seq, last, total):
            report.problems.append(
                f"account {account_id} (party {account.party_id}): cached balance {account.balance}, count "
                f"{account.posting_count} or head differ from the postings (sum {total}, count {seq})")
    for problem in verify_checkpoints():
        report.problems.append(problem)
    report.checkpoints = db.session.scalar(select(func.count(CreditCheckpoint.id))) or 0
    return report


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def day_head(prev_head: str, day: date) -> tuple[str, int]:
    """The ledger-wide head after ``day``: every posting recorded that day, in id order."""
    start, end = _day_bounds(day)
    digest = hashlib.sha256(f"{prev_head}|{day.isoformat()}".encode())
    count = 0
    for posting_hash in db.session.scalars(select(CreditPosting.hash).where(
            CreditPosting.recorded_at >= start, CreditPosting.recorded_at < end).order_by(CreditPosting.id)):
        digest.update(posting_hash.encode())
        count += 1
    return digest.hexdigest(), count


def checkpoint_ledger(through: Optional[date] = None) -> list[CreditCheckpoint]:
    """Checkpoint every closed day (UTC) up to ``through`` (default yesterday) not yet checkpointed."""
    last_closed = utc_today() - timedelta(days=1)  # ledger days are UTC days
    through = min(through or last_closed, last_closed)
    latest = db.session.scalar(select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc()).limit(1))
    if latest is not None:
        day, prev = latest.day + timedelta(days=1), latest.head
    else:
        first = db.session.scalar(select(func.min(CreditPosting.recorded_at)))
        if first is None:
            return []
        day, prev = first.astimezone(timezone.utc).date(), GENESIS_HASH
    made = []
    while day <= through:
        head, count = day_head(prev, day)
        checkpoint = CreditCheckpoint(day=day, prev_head=prev, head=head, posting_count=count,
                                      signature=checkpoint_signature(day, prev, head, count))
        db.session.add(checkpoint)
        made.append(checkpoint)
        prev, day = head, day + timedelta(days=1)
    db.session.flush()
    if made:
        record_audit("credit.checkpoint.create", "credit_checkpoint", made[-1].id,
                     after={"through": made[-1].day, "head": made[-1].head, "days": len(made)})
    return made


def checkpoint_signature(day: date, prev_head: str, head: str, posting_count: int) -> str:
    """HMAC-SHA256 (hex) of a checkpoint under ``LEDGER_SIGNING_KEY``: whoever lacks the key cannot make one."""
    message = f"greenfin-ledger-checkpoint/v1|{day.isoformat()}|{prev_head}|{head}|{posting_count}"
    return hmac.new(current_app.config["LEDGER_SIGNING_KEY"].encode(), message.encode(), hashlib.sha256).hexdigest()


def _signature_problem(checkpoint: CreditCheckpoint, signed_before: bool) -> Optional[str]:
    day = checkpoint.day.isoformat()
    if checkpoint.signature is None:
        # Checkpoints made before signing existed (credit_0005) are unsigned; none may follow a signed one.
        return f"checkpoint {day}: not signed, after signed ones (removed or replaced)" if signed_before else None
    expected = checkpoint_signature(checkpoint.day, checkpoint.prev_head, checkpoint.head, checkpoint.posting_count)
    if not hmac.compare_digest(expected, checkpoint.signature):
        return f"checkpoint {day}: signature does not match (changed without the signing key)"
    return None


def verify_checkpoints() -> list[str]:
    problems = []
    prev = GENESIS_HASH
    signed_before = False
    for checkpoint in db.session.scalars(select(CreditCheckpoint).order_by(CreditCheckpoint.day)):
        head, count = day_head(prev, checkpoint.day)
        if checkpoint.prev_head != prev or checkpoint.head != head or checkpoint.posting_count != count:
            problems.append(f"checkpoint {checkpoint.day.isoformat()}: ledger head differs (postings of that day "
                            f"changed, added or removed: {count} now, {checkpoint.posting_count} then)")
        problem = _signature_problem(checkpoint, signed_before)
        if problem:
            problems.append(problem)
        signed_before = signed_before or checkpoint.signature is not None
        prev = checkpoint.head
    return problems


# ---------------------------------------------------------------- published heads


def published_heads(limit: Optional[int] = None) -> list[CreditCheckpoint]:
    """The checkpoints as published (public page and API), oldest first; the latest ``limit`` when given."""
    stmt = select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(reversed(db.session.scalars(stmt).all()))


@dataclass
class PublishedHead:
    day: date
    prev_head: str
    head: str
    posting_count: int


def parse_published_heads(document: Any) -> list[PublishedHead]:
    """Heads from the JSON of ``GET /api/v1/credit/ledger/heads`` (or its ``heads`` list); ValueError if malformed."""
    rows = document.get("heads") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not rows:
        raise ValueError("expected a JSON object with a non-empty 'heads' list (GET /api/v1/credit/ledger/heads)")
    heads = []
    for number, row in enumerate(rows, 1):
        try:
            head = PublishedHead(date.fromisoformat(row["day"]), str(row["prev_head"]), str(row["head"]),
                                 int(row["posting_count"]))
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"head {number}: needs day (YYYY-MM-DD), prev_head, head and posting_count ({exc})")
        if not all(len(h) == 64 and set(h) <= set("0123456789abcdef") for h in (head.head, head.prev_head)):
            raise ValueError(f"head {number} ({row['day']}): head and prev_head are 64 hex digits")
        heads.append(head)
    return sorted(heads, key=lambda h: h.day)


def _accounts_of_day(day: date) -> list:
    start, end = _day_bounds(day)
    return list(db.session.execute(
        select(CreditPosting.account_id, CreditPosting.party_id).distinct()
        .where(CreditPosting.recorded_at >= start, CreditPosting.recorded_at < end)
        .order_by(CreditPosting.account_id)))


def verify_against(heads: list[PublishedHead]) -> list[str]:
    """Recompute each published day's head from today's postings; one problem per day that differs.

    Each day is recomputed from its published ``prev_head``, so a rewrite shows first on
    the day it touched, and later only on days where the same account posted again (a
    recomputed chain changes the hashes of its later postings). The first problem names
    the day and the accounts with postings recorded that day: one of them was rewritten.
    """
    problems = []
    for published in heads:
        head, count = day_head(published.prev_head, published.day)
        if (head, count) == (published.head, published.posting_count):
            continue
        message = (f"{published.day.isoformat()}: published head {published.head[:16]}… over "
                   f"{published.posting_count} postings, the ledger now gives {head[:16]}… over {count}")
        if not problems:
            accounts = ", ".join(f"{a} (party {p})" for a, p in _accounts_of_day(published.day)) or "none"
            message += f"; accounts with postings that day: {accounts}"
        problems.append(message)
    return problems
