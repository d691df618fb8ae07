"""Set-based posting: many rows in one transaction, a refused row costing no more than a good one.

``post_rows`` gives each row the outcome ``credit.ledger.submit_posting`` (with review) would give
it if the rows were posted one by one in order: the same idempotency keys and request hashes, the
same refusals in the same words, the same chains (account, seq, prev_hash, hash), balances, pending
requests and audit events. What differs is the cost: rules are read once, parties and used keys are
looked up in one query each, the accounts of the batch are locked in one statement (in id order, so
two batches never deadlock), the chains are extended in Python in row order and the postings, audit
events and balance updates go to the database in a few multi-row statements. A refused row is
dropped before any write, so it costs a dictionary look-up. No savepoints: nothing is rolled back.

Audit: one ``credit.posting.create`` event per posting, as a single posting writes, so a party's
audit trail and the ledger's event count read the same whichever door a posting came through.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Optional

import orjson
from flask import g, has_request_context
from sqlalchemy import ARRAY, JSON, any_, bindparam, cast, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import NullType

from credit.common import _actor_label, add_months, setting, today
from credit.ledger import (
    _clean_evidence, _effective, body_json, chain_hash, posting_canonical, request_hash,
)
from credit.models import GENESIS_HASH, CreditAccount, CreditPendingPosting, CreditPosting, CreditRule
from greenfin.core.models import AuditEvent, Party, User
from greenfin.core.types import utcnow
from greenfin.extensions import db
from greenfin.metrics import count_posting


@dataclass
class Row:
    """One posting request. ``error`` refuses it before the ledger is asked (unknown party...)."""

    line: int
    party_id: Optional[int]
    rule_code: str
    key: str
    effective_date: Optional[date] = None
    evidence: Optional[dict] = None
    source_id: Optional[str] = None
    error: Optional[str] = None
    # Filled by ``checked`` (``post_rows`` calls it for rows that come without them; the intake
    # calls it ahead, in the process that prepares the next chunk): the cleaned evidence, what was
    # wrong with it (None: nothing), the rule code as looked up and the request hash.
    clean: Optional[dict] = None
    problems: Optional[dict] = None
    code: Optional[str] = None
    digest: Optional[str] = None


def checked(row: Row) -> Row:
    """Fill what ``post_rows`` derives from a row alone (no database): evidence, rule code, request hash."""
    if row.error is None and row.digest is None:
        errors: dict[str, list[str]] = {}
        row.clean = _clean_evidence(row.evidence, errors)
        row.problems = errors or None
        row.code = (row.rule_code or "").strip().upper()
        row.digest = request_hash(party_id=row.party_id, rule_code=row.code,
                                  effective_date=row.effective_date.isoformat() if row.effective_date else None,
                                  evidence=row.clean)
    return row


@dataclass
class Outcome:
    line: int
    status: str  # posted | pending | duplicate | refused
    reason: Optional[str] = None
    posting_id: Optional[int] = None
    pending_id: Optional[int] = None


def _describe(errors: dict) -> str:
    return "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())


@dataclass(frozen=True, slots=True)
class _Rule:
    """What a batch reads of a rule version, as plain attributes (an ORM attribute costs a call)."""

    id: int
    code: str
    points: int
    party_kinds: tuple
    display_months: int
    effective_from: date
    effective_to: Optional[date]


class _Rules:
    """Every version of the rules a batch names, read once; the version in force on a day."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.versions: dict[str, list[_Rule]] = {}
        wanted = sorted({c for c in codes if c})
        if wanted:
            for rule in db.session.scalars(select(CreditRule).where(CreditRule.code.in_(wanted))
                                           .order_by(CreditRule.version.desc())):
                self.versions.setdefault(rule.code, []).append(_Rule(
                    rule.id, rule.code, rule.points, tuple(rule.party_kinds or ()), rule.display_months,
                    rule.effective_from, rule.effective_to))

    def pick(self, code: str, raw: str, day: date, errors: dict) -> Optional[_Rule]:
        versions = self.versions.get(code)
        if not versions:
            errors["rule_code"] = [f"unknown rule {raw}"]
            return None
        for rule in versions:
            if rule.effective_from <= day and (rule.effective_to is None or rule.effective_to > day):
                return rule
        errors["rule_code"] = [f"rule {raw} is not in force on {day.isoformat()}"]
        return None


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def pg_array(values: list) -> str:
    """A PostgreSQL array literal of integers or texts (``'{1,2}'``, ``'{"a","b\\"c"}'``), for a
    parameter cast to an array type: what psycopg would send for a list, built at a fraction of its
    cost (it dumps a list element by element in Python; a chunk sends lists of thousands)."""
    if not values:
        return "{}"
    if type(values[0]) is int:
        return "{" + ",".join(map(str, values)) + "}"
    joined = '","'.join(values)
    if "\\" in joined or joined.count('"') != 2 * (len(values) - 1):  # a text holds a quote or a backslash
        joined = '","'.join(v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + joined + '"}'


def among(column, values: list):
    """``column IN values``: one array parameter on PostgreSQL (thousands of parameters cost the
    driver more than the query), a plain IN on SQLite."""
    if _postgres():
        # An untyped parameter: PostgreSQL reads it as the array type once (a text parameter cast
        # in the statement would be cast again for every row a filter looks at).
        return column == any_(cast(bindparam(f"among_{column.key}", pg_array(values), type_=NullType()),
                                   ARRAY(column.type)))
    return column.in_(list(values))


def _used_keys(keys: list[str]) -> dict[str, str]:
    """Idempotency keys already used by a posting or a pending request: key -> request hash."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 5000):
        part = keys[start:start + 5000]
        for model in (CreditPosting, CreditPendingPosting):
            found.update(db.session.connection().execute(select(model.idempotency_key, model.request_hash)
                                                         .where(among(model.idempotency_key, part))).all())
    return found


def _party_kinds(ids: set[int]) -> dict[int, str]:
    return dict(db.session.connection().execute(select(Party.id, Party.kind).where(among(Party.id, sorted(ids))))
                .all()) if ids else {}


def _lock_accounts(party_ids: list[int], now) -> dict[int, dict]:
    """Create the missing accounts, then lock every account of the batch in id order."""
    stmt = (select(CreditAccount.id, CreditAccount.party_id, CreditAccount.balance, CreditAccount.posting_count,
                   CreditAccount.last_hash).where(among(CreditAccount.party_id, party_ids))
            .order_by(CreditAccount.id).with_for_update())
    def locked() -> dict[int, dict]:
        return {party_id: {"id": id_, "party_id": party_id, "balance": balance, "posting_count": count,
                           "last_hash": last_hash}
                for id_, party_id, balance, count, last_hash in db.session.connection().execute(stmt).all()}

    accounts = locked()
    missing = [p for p in party_ids if p not in accounts]
    if missing:
        if _postgres():
            db.session.connection().connection.dbapi_connection.cursor().execute(
                "INSERT INTO credit_accounts (party_id, balance, posting_count, last_hash, updated_at) "
                "SELECT unnest(%s::int[]), 0, 0, %s, %s ON CONFLICT (party_id) DO NOTHING",
                (pg_array(missing), GENESIS_HASH, now))
        else:
            db.session.execute(sqlite_insert(CreditAccount.__table__).on_conflict_do_nothing(), [
                {"party_id": p, "balance": 0, "posting_count": 0, "last_hash": GENESIS_HASH, "updated_at": now}
                for p in missing])
        accounts = locked()
    return accounts


def post_rows(rows: list[Row], *, source: str, actor: Optional[User] = None, review: bool = True) -> list[Outcome]:
    """Post ``rows`` in order in the current transaction (add and flush, never commit)."""
    now = utcnow()
    label = _actor_label(actor)
    actor_id = actor.id if actor is not None else None
    request_id = g.get("request_id") if has_request_context() else None
    review_above = setting("CREDIT_REVIEW_ABOVE")
    on, max_days = today(), setting("CREDIT_MAX_BACKDATE_DAYS")
    outcomes: list[Optional[Outcome]] = [None] * len(rows)
    for row in rows:
        checked(row)
    rules = _Rules(r.code for r in rows if r.error is None)
    used = _used_keys(sorted({r.key for r in rows if r.error is None}))
    kinds = _party_kinds({r.party_id for r in rows if r.error is None and r.party_id is not None})

    accepted: list[tuple[int, Row, dict]] = []
    for i, row in enumerate(rows):
        if row.error is not None:
            outcomes[i] = Outcome(row.line, "refused", row.error)
            continue
        errors = dict(row.problems) if row.problems else {}
        clean, code, digest = row.clean, row.code, row.digest
        earlier = used.get(row.key)
        if earlier is not None:  # a retry replays, even if the rule has since changed
            outcomes[i] = Outcome(row.line, "duplicate") if earlier == digest else Outcome(
                row.line, "refused", f"idempotency key {row.key} was used with different content")
            continue
        if row.party_id not in kinds:
            outcomes[i] = Outcome(row.line, "refused", f"party {row.party_id} not found")
            continue
        day = _effective(row.effective_date, errors, on, max_days)
        rule = None if errors.get("effective_date") else rules.pick(code, row.rule_code, day, errors)
        if errors:
            outcomes[i] = Outcome(row.line, "refused", _describe(errors))
            continue
        kind = kinds[row.party_id]
        if kind not in rule.party_kinds:
            outcomes[i] = Outcome(row.line, "refused", f"rule_code: rule {rule.code} does not apply to a {kind}")
            continue
        used[row.key] = digest
        accepted.append((i, row, {"rule": rule, "day": day, "clean": clean, "digest": digest,
                                  "pending": review and (rule.points < 0 or rule.points > review_above)}))

    _store_pending([a for a in accepted if a[2]["pending"]], outcomes, now=now, actor_id=actor_id, label=label,
                   source=source, request_id=request_id)
    _append_postings([a for a in accepted if not a[2]["pending"]], outcomes, now=now, actor_id=actor_id,
                     label=label, source=source, request_id=request_id)
    return outcomes  # type: ignore[return-value]


def _json_text(value) -> str:
    """JSON for a ``jsonb`` column in a text ``COPY`` (the database keeps the value, not the text)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


_AUDIT_COLUMNS = ("occurred_at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "party_id",
                  "before", "after", "request_id")


def _audit_row(now, actor_id, label, action, entity_type, entity_id, party_id, after, request_id) -> tuple:
    """An audit event's values in the order of ``_AUDIT_COLUMNS``."""
    return now, actor_id, label, action, entity_type, str(entity_id), party_id, None, after, request_id


def draw_ids(model, count: int) -> Optional[list[int]]:
    """PostgreSQL: ``count`` ids drawn from the table's sequence, in order (None elsewhere)."""
    if not _postgres():
        return None
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    return list(map(int, cursor.execute(  # one text, not a row per id
        f"SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT nextval('{model.__table__.name}_id_seq') AS id "
        f"FROM generate_series(1, %s)) ids", (count,)).fetchone()[0].split(",")))


def insert_rows(model, values: Iterable, names: Optional[Iterable[str]] = None,
                ids: Optional[list[int]] = None) -> list[int]:
    """Insert rows (dicts, or tuples in the order of ``names``), returning their ids in order: ``COPY``
    with ids drawn from the table's sequence on PostgreSQL (no statement text to build or parse), a
    multi-row INSERT ... RETURNING elsewhere. With ``ids`` from ``draw_ids``, ``values`` may be a
    generator: PostgreSQL stores the first rows while the generator makes the next ones."""
    table = model.__table__
    if names is None:
        values = list(values)
        names = list(values[0])
        values = [tuple(v[name] for name in names) for v in values]
    names = list(names)
    if not _postgres():
        result = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                    [dict(zip(names, v)) for v in values])
        return [r[0] for r in result]
    db.session.flush()
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    if ids is None:
        values = list(values)
        ids = draw_ids(model, len(values))
    json_at = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)
               or isinstance(getattr(table.c[name].type, "impl", None), JSON)]
    with cursor.copy(f"COPY {table.name} (id, {', '.join(names)}) FROM STDIN") as copy:
        write = copy.write_row
        if not json_at:
            for row_id, row in zip(ids, values):
                write((row_id, *row))
            return ids
        for row_id, row in zip(ids, values):
            fields = [row_id, *row]
            for i in json_at:
                if fields[i + 1] is not None:
                    fields[i + 1] = _json_text(fields[i + 1])
            write(fields)
    return ids


def _insert_audit(rows: list[tuple]) -> None:
    if rows:
        insert_rows(AuditEvent, rows, _AUDIT_COLUMNS)


def _store_pending(items, outcomes, *, now, actor_id, label, source, request_id) -> None:
    if not items:
        return
    expires = now + timedelta(days=setting("CREDIT_PENDING_DAYS"))
    values = [{"party_id": row.party_id, "rule_id": x["rule"].id, "rule_code": x["rule"].code,
               "points": x["rule"].points, "effective_date": x["day"], "evidence": x["clean"], "source": source,
               "source_id": (row.source_id or row.key)[:128], "idempotency_key": row.key,
               "request_hash": x["digest"], "reverses_id": None, "reason": None, "submitted_by_id": actor_id,
               "submitted_by": label, "submitted_at": now, "expires_at": expires, "status": "pending",
               "decided_by_id": None, "decided_at": None, "decision_note": None, "posting_id": None}
              for _i, row, x in items]
    ids = insert_rows(CreditPendingPosting, values)
    audits = []
    for (i, row, x), pending_id in zip(items, ids):
        outcomes[i] = Outcome(row.line, "pending", pending_id=pending_id)
        audits.append(_audit_row(now, actor_id, label, "credit.pending.create", "credit_pending_posting", pending_id,
                                 row.party_id, {"rule_code": x["rule"].code, "points": x["rule"].points,
                                                "effective_date": x["day"].isoformat(), "key": row.key}, request_id))
    _insert_audit(audits)


_POSTING_COLUMNS = ("account_id", "seq", "party_id", "rule_id", "rule_code", "points", "effective_date", "expires_on",
                    "recorded_at", "evidence", "entered_by_id", "entered_by", "approved_by_id", "source", "source_id",
                    "idempotency_key", "request_hash", "reverses_id", "reason", "prev_hash", "hash")


def _append_postings(items, outcomes, *, now, actor_id, label, source, request_id) -> None:
    if not items:
        return
    # New accounts are made in the order the rows first name them, as one-by-one posting makes them.
    accounts = _lock_accounts(list(dict.fromkeys(row.party_id for _i, row, _x in items)), now)
    values: list[tuple] = []

    def postings():  # each made while COPY sends the ones before it (PostgreSQL)
        for _i, row, x in items:
            account, rule, day = accounts[row.party_id], x["rule"], x["day"]
            source_id = (row.source_id or row.key)[:128]
            body = body_json(party_id=row.party_id, rule_code=rule.code, effective_date=day, recorded_at=now,
                             evidence=x["clean"], entered_by_id=actor_id, entered_by=label, approved_by_id=None,
                             source=source, source_id=source_id, idempotency_key=row.key, request_hash=x["digest"],
                             reverses_id=None, reason=None)
            seq, prev = account["posting_count"] + 1, account["last_hash"]
            expires = add_months(day, rule.display_months)
            digest = chain_hash(prev, posting_canonical(account["id"], seq, rule.id, rule.points, expires, body))
            values.append((account["id"], seq, row.party_id, rule.id, rule.code, rule.points, day, expires, now,
                           x["clean"], actor_id, label, None, source, source_id, row.key, x["digest"], None, None,
                           prev, digest))
            account["posting_count"], account["last_hash"] = seq, digest
            account["balance"] += rule.points
            account["touched"] = True
            yield values[-1]

    ids = insert_rows(CreditPosting, postings(), _POSTING_COLUMNS, ids=draw_ids(CreditPosting, len(items)))
    for (i, row, _x), posting_id in zip(items, ids):
        outcomes[i] = Outcome(row.line, "posted", posting_id=posting_id)
    audits = (_audit_row(now, actor_id, label, "credit.posting.create", "credit_posting", posting_id, v[2],
                         {"rule_code": v[4], "points": v[5], "effective_date": v[6].isoformat(), "source": source,
                          "source_id": v[14], "reverses_id": None, "hash": v[20]}, request_id)
              for posting_id, v in zip(ids, values))
    insert_rows(AuditEvent, audits, _AUDIT_COLUMNS, ids=draw_ids(AuditEvent, len(values)))
    _update_accounts([a for a in accounts.values() if a.get("touched")], now)
    ids = {account["id"] for account in accounts.values()}
    for cached in [o for o in db.session.identity_map.values() if isinstance(o, CreditAccount) and o.id in ids]:
        db.session.expire(cached)  # the session's copies are stale now
    count_posting(len(values))


def post_batch(items: list[dict], *, actor: Optional[User] = None, source: str = "api") -> list[Outcome]:
    """``POST /credit/postings:batch``: a system's postings in one transaction, a result per item
    (``line`` is the item's index). Each item carries its own idempotency key."""
    from credit.common import _actor

    actor = actor if actor is not None else _actor()
    rows = [Row(i, item["party_id"], item["rule_code"], item["idempotency_key"].strip(),
                effective_date=item.get("effective_date"), evidence=item.get("evidence"),
                source_id=(item.get("source_id") or "").strip() or None,
                error=None if item["idempotency_key"].strip() else "idempotency_key: is required")
            for i, item in enumerate(items)]
    return post_rows(rows, source=source, actor=actor)


def _update_accounts(accounts: list[dict], now) -> None:
    """The locked accounts' new balance, count and chain head: one statement on PostgreSQL."""
    if _postgres():
        db.session.connection().connection.dbapi_connection.cursor().execute(
            "UPDATE credit_accounts a SET balance = v.balance, posting_count = v.posting_count, "
            "last_hash = v.last_hash, updated_at = %s FROM (SELECT unnest(%s::int[]) AS id, "
            "unnest(%s::int[]) AS balance, unnest(%s::int[]) AS posting_count, unnest(%s::text[]) AS last_hash) v "
            "WHERE a.id = v.id",
            (now, pg_array([a["id"] for a in accounts]), pg_array([a["balance"] for a in accounts]),
             pg_array([a["posting_count"] for a in accounts]), pg_array([a["last_hash"] for a in accounts])))
        return
    table = CreditAccount.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("b_id")).values(
            balance=bindparam("b_balance"), posting_count=bindparam("b_count"), last_hash=bindparam("b_hash"),
            updated_at=bindparam("b_at")),
        [{"b_id": a["id"], "b_balance": a["balance"], "b_count": a["posting_count"], "b_hash": a["last_hash"],
          "b_at": now} for a in accounts])
