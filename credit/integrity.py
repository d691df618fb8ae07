"""Tamper evidence: recompute every hash chain and cached balance; daily ledger-wide checkpoints."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional

from sqlalchemy import func, select

from credit.common import today
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
    last_closed = today() - timedelta(days=1)
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
        checkpoint = CreditCheckpoint(day=day, prev_head=prev, head=head, posting_count=count)
        db.session.add(checkpoint)
        made.append(checkpoint)
        prev, day = head, day + timedelta(days=1)
    db.session.flush()
    if made:
        record_audit("credit.checkpoint.create", "credit_checkpoint", made[-1].id,
                     after={"through": made[-1].day, "head": made[-1].head, "days": len(made)})
    return made


def verify_checkpoints() -> list[str]:
    problems = []
    prev = GENESIS_HASH
    for checkpoint in db.session.scalars(select(CreditCheckpoint).order_by(CreditCheckpoint.day)):
        head, count = day_head(prev, checkpoint.day)
        if checkpoint.prev_head != prev or checkpoint.head != head or checkpoint.posting_count != count:
            problems.append(f"checkpoint {checkpoint.day.isoformat()}: ledger head differs (postings of that day "
                            f"changed, added or removed: {count} now, {checkpoint.posting_count} then)")
        prev = checkpoint.head
    return problems
