"""The unit ledger: accounts, the hash chain, the one move of units, serials, replay and verification.

Functions add and flush, never commit. Every change of who holds which serials is one
``CarbonEntry`` appended to its project's chain under a lock of the project row (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite serialises writers), followed by the change of the blocks it
names. The database refuses the rest (migration carbon_0001): an entry that does not follow the
chain head, a move of units whose state forbids it, a block changed without its entry.

On PostgreSQL a transfer or a retirement is one call of the function ``carbon_move_units``
(migration carbon_0004): the same locks, refusals, entry, block move or split and audit event, from
the canonical body this module computes and hashes the same way (``_move_in_database``). SQLite,
pledges, releases, enforcements and issues take the Python path below.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Optional

from sqlalchemy import Integer, String, column, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from greenfin.carbon.models import (
    GENESIS_HASH, OP_SOURCES, OP_STATES, CarbonAccount, CarbonBlock, CarbonEntry, CarbonProject,
)
from greenfin.core.models import Party
from greenfin.core.services import audit_origin, record_audit
from greenfin.dates import utcnow
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db

CENT = Decimal("0.01")
SERIAL_RE = re.compile(r"^GF-([A-Z0-9]{2,12})-(\d{4})-(\d{1,9})(?:-(\d{1,9}))?$")

# ---------------------------------------------------------------- serials


def serial(code: str, vintage: int, start: int, end: Optional[int] = None) -> str:
    """``GF-<project>-<vintage>-<start>-<end>`` (eight digits each); one unit: ``GF-<project>-<vintage>-<n>``."""
    if end is None or end == start:
        return f"GF-{code}-{vintage}-{start:08d}"
    return f"GF-{code}-{vintage}-{start:08d}-{end:08d}"


def parse_serial(text: str) -> tuple[str, int, int, int]:
    """(project code, vintage, start, end) of a serial or serial range; ValidationFailed if malformed."""
    match = SERIAL_RE.match((text or "").strip().upper())
    if match is None:
        raise ValidationFailed.field("serial", "use GF-<project>-<vintage>-<number> or GF-<project>-<vintage>-<start>-<end>")
    code, vintage, start, end = match.group(1), int(match.group(2)), int(match.group(3)), match.group(4)
    end = int(end) if end else start
    if start < 1 or end < start:
        raise ValidationFailed.field("serial", "the range must start at 1 or above and not end before it starts")
    return code, vintage, start, end


def block_serial(block: CarbonBlock) -> str:
    return serial(block.project.code, block.vintage, block.serial_start, block.serial_end)


def entry_serial(entry: CarbonEntry) -> str:
    return serial(entry.project.code, entry.vintage, entry.serial_start, entry.serial_end)


# ---------------------------------------------------------------- hashes


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


BODY_FIELDS = ("report_id", "unit_price", "amount", "counterparty", "application_id", "loan_id", "reference_price",
               "price_source", "price_date", "haircut", "beneficiary", "beneficiary_party_id", "purpose", "note",
               "recorded_at", "actor", "idempotency_key", "request_hash")


def body_json(values: dict) -> str:
    """The canonical JSON of an entry's body (``BODY_FIELDS``; absent ones are null)."""
    return json.dumps({name: _text(values.get(name)) for name in BODY_FIELDS}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


def canonical_entry(e: CarbonEntry) -> str:
    """What an entry's hash covers: its place, the serials it moves, from whom to whom, and its body.

    The PostgreSQL function ``carbon_move_units`` (migration carbon_0004) builds the same text
    around the body this module computes (``body_json``).
    """
    body = body_json({name: getattr(e, name) for name in BODY_FIELDS})
    return (f"{e.project_id}|{e.seq}|{e.op}|{e.vintage}|{e.serial_start}|{e.serial_end}|{e.quantity}|"
            f"{e.source_block_id}|{e.from_account_id}|{e.to_account_id}|{e.to_state}|{body}")


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical).encode()).hexdigest()


def request_hash(**content: Any) -> str:
    return hashlib.sha256(json.dumps({k: _text(v) for k, v in content.items()}, sort_keys=True,
                                     default=str).encode()).hexdigest()


# ---------------------------------------------------------------- accounts


def _insert_ignoring_conflict(values: dict):
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(CarbonAccount).values(**values).on_conflict_do_nothing()


def _account(where, values: dict) -> CarbonAccount:
    account = db.session.scalar(select(CarbonAccount).where(where))
    if account is None:
        db.session.execute(_insert_ignoring_conflict(values | {"created_at": utcnow()}))
        account = db.session.scalar(select(CarbonAccount).where(where))
    return account


def holder_account(party_id: int) -> CarbonAccount:
    """The party's account, opened on first use."""
    if not isinstance(party_id, int) or db.session.get(Party, party_id) is None:
        raise NotFound(f"party {party_id} not found")
    return _account(CarbonAccount.party_id == party_id, {"kind": "holder", "party_id": party_id})


def buffer_account() -> CarbonAccount:
    """The district buffer account: the share of each issuance held back against reversals."""
    return _account(CarbonAccount.kind == "buffer", {"kind": "buffer", "party_id": None})


def lender_account() -> CarbonAccount:
    """Where pledged units pass when their loan defaults (the lending bank)."""
    return _account(CarbonAccount.kind == "lender", {"kind": "lender", "party_id": None})


def find_account(party_id: int) -> Optional[CarbonAccount]:
    return db.session.scalar(select(CarbonAccount).where(CarbonAccount.party_id == party_id))


# ---------------------------------------------------------------- the append and the move


def lock_project(project_id: int) -> CarbonProject:
    """Lock the project row (the head of its chain) until the commit."""
    project = db.session.scalar(select(CarbonProject).where(CarbonProject.id == project_id)
                                .with_for_update(of=CarbonProject).execution_options(populate_existing=True))
    if project is None:
        raise NotFound(f"carbon project {project_id} not found")
    return project


def append(project: CarbonProject, *, op: str, vintage: int, start: int, end: int, to_account_id: int,
           source_block_id: Optional[int] = None, from_account_id: Optional[int] = None, actor: str = "system",
           **body: Any) -> CarbonEntry:
    """Append one entry to a locked project's chain (the caller then changes the blocks it names)."""
    entry = CarbonEntry(project_id=project.id, seq=project.entry_count + 1, op=op, vintage=vintage,
                        serial_start=start, serial_end=end, quantity=end - start + 1, source_block_id=source_block_id,
                        from_account_id=from_account_id, to_account_id=to_account_id, to_state=OP_STATES[op],
                        recorded_at=utcnow(), actor=actor, prev_hash=project.last_hash, **body)
    for name in ("unit_price", "amount", "reference_price"):
        if getattr(entry, name) is not None:
            setattr(entry, name, Decimal(getattr(entry, name)).quantize(CENT))
    entry.hash = chain_hash(entry.prev_hash, canonical_entry(entry))
    db.session.add(entry)
    db.session.flush()
    project.entry_count, project.last_hash = entry.seq, entry.hash
    db.session.flush()
    return entry


def _by_key(key: Optional[str], digest: str) -> Optional[CarbonEntry]:
    if not key:
        return None
    existing = db.session.scalar(select(CarbonEntry).where(CarbonEntry.idempotency_key == key))
    if existing is not None and existing.request_hash != digest:
        raise Conflict(f"idempotency key {key} was used with different content", code="idempotency_conflict")
    return existing


STATE_REFUSALS = {
    "pledged": "the units are pledged to a loan: they cannot move until the pledge is released",
    "retired": "the units are retired: they can never move again",
    "buffer": "the units are in the district buffer: they cannot move",
    "available": "the units are not pledged",
}


def move(block_id: int, quantity: Any, op: str, to_account: CarbonAccount, *, holder_id: Optional[int] = None,
         actor: str = "system", idempotency_key: Optional[str] = None, **body: Any) -> CarbonEntry:
    """Move the first ``quantity`` serials of a block by ``op`` into ``to_account``.

    ``holder_id`` (an account id) is who the caller believes holds the block: when another
    request moved it first, this one is refused (409) instead of moving what is no longer theirs.
    A part of a block splits it: the entry takes the head of the range, the block keeps the rest.
    """
    digest = request_hash(block_id=block_id, quantity=quantity, op=op, to=to_account.id, holder=holder_id, **body)
    replay = _by_key(idempotency_key, digest)
    if replay is not None:
        return replay
    if (op in IN_DATABASE and type(block_id) is int and type(quantity) is int and 1 <= quantity < 2 ** 31
            and set(body) <= set(BODY_FIELDS) and db.session.get_bind().dialect.name == "postgresql"):
        return _move_in_database(block_id, quantity, op, to_account, holder_id=holder_id, actor=actor,
                                 idempotency_key=idempotency_key, digest=digest, body=body)
    block = db.session.get(CarbonBlock, block_id) if isinstance(block_id, int) else None
    if block is None:
        raise NotFound(f"carbon block {block_id} not found")
    project = lock_project(block.project_id)
    block = db.session.scalar(select(CarbonBlock).where(CarbonBlock.id == block_id)
                              .with_for_update(of=CarbonBlock).execution_options(populate_existing=True))
    if holder_id is not None and block.account_id != holder_id:
        raise Conflict(f"block {block_serial(block)} is no longer held by this account", code="moved")
    if block.state != OP_SOURCES[op]:
        raise Conflict(f"block {block_serial(block)}: {STATE_REFUSALS[block.state]}", code=f"units_{block.state}")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed.field("quantity", "must be a whole number of tonnes, at least 1")
    if quantity > block.quantity:
        raise ValidationFailed.field("quantity", f"the block holds {block.quantity} t; {quantity} t asked")
    if op in ("release", "enforce") and quantity != block.quantity:
        raise ValidationFailed.field("quantity", "a pledge is released or enforced whole")
    if op in ("release", "enforce"):
        body.setdefault("application_id", block.application_id)
    start, end = block.serial_start, block.serial_start + quantity - 1
    entry = append(project, op=op, vintage=block.vintage, start=start, end=end, to_account_id=to_account.id,
                   source_block_id=block.id, from_account_id=block.account_id, actor=actor,
                   idempotency_key=idempotency_key, request_hash=digest, **body)
    pledged_to = entry.application_id if entry.to_state == "pledged" else None
    if quantity == block.quantity:
        # The relationship, not only the key: a block loaded earlier in this session must not keep
        # answering with its previous holder.
        block.account, block.state, block.application_id = to_account, entry.to_state, pledged_to
        block.entry_id = entry.id
        db.session.flush()
        entry.result_block = block
    else:
        block.serial_start, block.entry_id = end + 1, entry.id
        db.session.flush()
        entry.result_block = CarbonBlock(project_id=project.id, vintage=block.vintage, serial_start=start,
                                         serial_end=end, account_id=to_account.id, state=entry.to_state,
                                         application_id=pledged_to, entry_id=entry.id)
        db.session.add(entry.result_block)
        db.session.flush()
    record_audit(f"carbon.units.{op}", "carbon_entry", entry.id, party_id=_party_of(to_account),
                 before={"block_id": block.id, "state": OP_SOURCES[op], "account_id": entry.from_account_id},
                 after={"serials": entry_serial(entry), "quantity": quantity, "state": entry.to_state,
                        "account_id": to_account.id, "hash": entry.hash})
    return entry


def _party_of(account: CarbonAccount) -> Optional[int]:
    return account.party_id


# ---------------------------------------------------------------- the move in one PostgreSQL call

IN_DATABASE = ("transfer", "retire")  # moves of available units the function carbon_move_units makes

# Typed result columns: SQLAlchemy reuses the cached statement's result metadata.
_MOVE_SQL = text(
    "SELECT * FROM carbon_move_units(CAST(:block_id AS integer), CAST(:quantity AS integer), CAST(:op AS text), "
    "CAST(:to_account_id AS integer), CAST(:holder_id AS integer), CAST(:body AS text), CAST(:actor_id AS integer), "
    "CAST(:actor_label AS text), CAST(:party_id AS integer), CAST(:request_id AS text))"
).columns(column("o_status", String), column("o_entry_id", Integer), column("o_project_id", Integer),
          column("o_code", String), column("o_vintage", Integer), column("o_block_start", Integer),
          column("o_block_end", Integer), column("o_block_account_id", Integer), column("o_block_state", String),
          column("o_seq", Integer), column("o_serial_end", Integer), column("o_new_block_id", Integer),
          column("o_prev_hash", String), column("o_hash", String))


def _move_in_database(block_id: int, quantity: int, op: str, to_account: CarbonAccount, *, holder_id: Optional[int],
                      actor: str, idempotency_key: Optional[str], digest: str, body: dict) -> CarbonEntry:
    """``move`` for a transfer or a retirement on PostgreSQL: one round trip (migration carbon_0004).

    The function takes the canonical body this module hashes and stores the entry's fields from
    it; the locks, refusals, chain append, block move or split and audit event are those of the
    Python path, and so are the errors raised here. The session's instances of the project and
    the block are brought up to date, and the new entry and block join the session as if loaded.
    """
    values: dict[str, Any] = {name: None for name in BODY_FIELDS} | body
    for name in ("unit_price", "amount", "reference_price"):
        if values[name] is not None:
            values[name] = Decimal(values[name]).quantize(CENT)
    values.update(recorded_at=utcnow(), actor=actor, idempotency_key=idempotency_key, request_hash=digest)
    actor_id, actor_label, request_id = audit_origin()
    db.session.flush()
    row = db.session.execute(_MOVE_SQL, {
        "block_id": block_id, "quantity": quantity, "op": op, "to_account_id": to_account.id, "holder_id": holder_id,
        "body": body_json(values), "actor_id": actor_id, "actor_label": actor_label,
        "party_id": _party_of(to_account), "request_id": request_id}).one()
    if row.o_status == "no_block":
        raise NotFound(f"carbon block {block_id} not found")
    project = db.session.identity_map.get(db.session.identity_key(CarbonProject, row.o_project_id))
    if row.o_status != "ok":
        for cached in (project, db.session.identity_map.get(db.session.identity_key(CarbonBlock, block_id))):
            if cached is not None:
                db.session.expire(cached)
        where = serial(row.o_code, row.o_vintage, row.o_block_start, row.o_block_end)
        if row.o_status == "moved":
            raise Conflict(f"block {where} is no longer held by this account", code="moved")
        if row.o_status == "state":
            raise Conflict(f"block {where}: {STATE_REFUSALS[row.o_block_state]}", code=f"units_{row.o_block_state}")
        raise ValidationFailed.field("quantity", f"the block holds {row.o_block_end - row.o_block_start + 1} t; "
                                                 f"{quantity} t asked")
    if project is not None:
        set_committed_value(project, "entry_count", row.o_seq)
        set_committed_value(project, "last_hash", row.o_hash)
    to_state = OP_STATES[op]
    entry = _as_loaded(CarbonEntry, row.o_entry_id, values | dict(
        project_id=row.o_project_id, seq=row.o_seq, op=op, vintage=row.o_vintage, serial_start=row.o_block_start,
        serial_end=row.o_serial_end, quantity=quantity, source_block_id=block_id,
        from_account_id=row.o_block_account_id, to_account_id=to_account.id, to_state=to_state,
        prev_hash=row.o_prev_hash, hash=row.o_hash))
    shape = dict(project_id=row.o_project_id, vintage=row.o_vintage, application_id=None, entry_id=row.o_entry_id)
    if row.o_new_block_id is None:
        entry.result_block = _as_loaded(CarbonBlock, block_id, shape | dict(
            serial_start=row.o_block_start, serial_end=row.o_block_end, account_id=to_account.id, state=to_state))
        set_committed_value(entry.result_block, "account", to_account)
    else:
        _as_loaded(CarbonBlock, block_id, shape | dict(
            serial_start=row.o_serial_end + 1, serial_end=row.o_block_end, account_id=row.o_block_account_id,
            state=row.o_block_state))
        entry.result_block = _as_loaded(CarbonBlock, row.o_new_block_id, shape | dict(
            serial_start=row.o_block_start, serial_end=row.o_serial_end, account_id=to_account.id, state=to_state))
        set_committed_value(entry.result_block, "account", to_account)
    return entry


def _as_loaded(model, id_: int, values: dict):
    """The session's instance of a row the database function wrote, with ``values`` as its stored state."""
    instance = db.session.identity_map.get(db.session.identity_key(model, id_))
    if instance is None:
        instance = model(id=id_, **values)
        make_transient_to_detached(instance)
        db.session.add(instance)  # persistent, as if loaded
    else:
        for name, value in values.items():
            set_committed_value(instance, name, value)
    return instance


def issue_block(project: CarbonProject, *, vintage: int, quantity: int, to_account: CarbonAccount, op: str,
                report_id: int, actor: str) -> Optional[CarbonEntry]:
    """Create ``quantity`` new serials after the vintage's last one, held by ``to_account`` (issue or buffer)."""
    if quantity <= 0:
        return None
    last = db.session.scalar(select(func.max(CarbonEntry.serial_end)).where(
        CarbonEntry.project_id == project.id, CarbonEntry.vintage == vintage, CarbonEntry.op.in_(("issue", "buffer"))))
    start = (last or 0) + 1
    entry = append(project, op=op, vintage=vintage, start=start, end=start + quantity - 1,
                   to_account_id=to_account.id, actor=actor, report_id=report_id)
    db.session.add(CarbonBlock(project_id=project.id, vintage=vintage, serial_start=entry.serial_start,
                               serial_end=entry.serial_end, account_id=to_account.id, state=entry.to_state,
                               entry_id=entry.id))
    db.session.flush()
    record_audit(f"carbon.units.{op}", "carbon_entry", entry.id, party_id=to_account.party_id,
                 after={"serials": entry_serial(entry), "quantity": quantity, "state": entry.to_state,
                        "hash": entry.hash})
    return entry


# ---------------------------------------------------------------- replay and verification


Key = tuple[int, int, int]  # project, vintage, serial_start


def replay(entries: Iterable[CarbonEntry]) -> dict[Key, tuple[int, int, str, Optional[int]]]:
    """The live blocks the entries produce: {(project, vintage, start): (end, account, state, application)}."""
    blocks: dict[Key, tuple[int, int, str, Optional[int]]] = {}
    for e in entries:
        replay_step(blocks, e)
    return blocks


@dataclass
class VerifyReport:
    entries: int = 0
    projects: int = 0
    blocks: int = 0
    problems: list[str] = field(default_factory=list)
    first_broken_entry_id: Optional[int] = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(batch: int = 5000) -> VerifyReport:
    """Recompute every chain and project head, and check the blocks against a replay of the ledger."""
    report = VerifyReport()
    heads: dict[int, tuple[int, str]] = {}
    live: dict[Key, tuple[int, int, str, Optional[int]]] = {}

    def broken(entry_id: int, message: str) -> None:
        if report.first_broken_entry_id is None:
            report.first_broken_entry_id = entry_id
        report.problems.append(message)

    # Plain rows (no ORM instances): the canonical form reads the same attribute names.
    stmt = select(*CarbonEntry.__table__.columns).order_by(CarbonEntry.project_id, CarbonEntry.seq) \
        .execution_options(yield_per=batch, stream_results=True)
    chunk: list = []
    for e in db.session.execute(stmt):
        report.entries += 1
        seq, prev = heads.get(e.project_id, (0, GENESIS_HASH))
        if e.seq != seq + 1:
            broken(e.id, f"entry {e.id}: sequence {e.seq} follows {seq} in project {e.project_id}")
        if e.prev_hash != prev:
            broken(e.id, f"entry {e.id}: previous hash does not match entry #{seq} of project {e.project_id}")
        if chain_hash(e.prev_hash, canonical_entry(e)) != e.hash:
            broken(e.id, f"entry {e.id}: content does not match its hash (altered)")
        heads[e.project_id] = (e.seq, e.hash)
        chunk.append(e)
        if len(chunk) >= batch:
            _replay_into(live, chunk, broken)
            chunk = []
    _replay_into(live, chunk, broken)
    for project in db.session.scalars(select(CarbonProject)):
        report.projects += 1
        if (project.entry_count, project.last_hash) != heads.get(project.id, (0, GENESIS_HASH)):
            report.problems.append(f"project {project.code}: its chain head differs from its entries")
    stored = {}
    for b in db.session.execute(select(CarbonBlock.project_id, CarbonBlock.vintage, CarbonBlock.serial_start,
                                       CarbonBlock.serial_end, CarbonBlock.account_id, CarbonBlock.state,
                                       CarbonBlock.application_id)):
        stored[(b[0], b[1], b[2])] = (b[3], b[4], b[5], b[6])
    report.blocks = len(stored)
    for key in sorted(set(stored) | set(live)):
        if stored.get(key) != live.get(key):
            report.problems.append(f"block of project {key[0]} vintage {key[1]} from serial {key[2]}: holds "
                                   f"{stored.get(key)}, the ledger says {live.get(key)}")
    return report


def _replay_into(live: dict, entries: list, broken) -> None:
    for e in entries:
        try:
            replay_step(live, e)
        except KeyError:
            broken(e.id, f"entry {e.id}: moves serials {e.serial_start}-{e.serial_end} that no block holds")


def replay_step(live: dict, e: CarbonEntry) -> None:
    """Apply one entry to the live blocks ``live`` (in place): see ``replay``."""
    pledged_to = e.application_id if e.to_state == "pledged" else None
    key = (e.project_id, e.vintage, e.serial_start)
    if e.source_block_id is not None:
        end, account, state, application = live.pop(key)
        if e.serial_end < end:
            live[(e.project_id, e.vintage, e.serial_end + 1)] = (end, account, state, application)
    live[key] = (e.serial_end, e.to_account_id, e.to_state, pledged_to)
