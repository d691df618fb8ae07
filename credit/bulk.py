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
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Optional

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
    # The party's kind, when whoever resolved the party read it too (the intake does); else
    # ``post_rows`` looks it up.
    kind: Optional[str] = None


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

    def __init__(self, codes: Iterable[str], session=None) -> None:
        self.versions: dict[str, list[_Rule]] = {}
        wanted = sorted({c for c in codes if c})
        if wanted:
            for rule in (session or db.session).scalars(select(CreditRule).where(CreditRule.code.in_(wanted))
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


def used_keys(rows: list[Row], session=None) -> dict[str, str]:
    """The rows' idempotency keys already used by a posting or a pending request: key -> request hash."""
    connection = (session if session is not None else db.session).connection()
    keys = sorted({r.key for r in rows if r.error is None})
    found: dict[str, str] = {}
    for start in range(0, len(keys), 5000):
        part = keys[start:start + 5000]
        for model in (CreditPosting, CreditPendingPosting):
            found.update(connection.execute(select(model.idempotency_key, model.request_hash)
                                            .where(among(model.idempotency_key, part))).all())
    return found


def _party_kinds(ids: set[int]) -> dict[int, str]:
    return dict(db.session.connection().execute(select(Party.id, Party.kind).where(among(Party.id, sorted(ids))))
                .all()) if ids else {}


def _lock_accounts(party_ids: list[int], now, *, session=None, lock: bool = True) -> dict[int, dict]:
    """Create the missing accounts, then lock every account of the batch in id order (or, with
    ``lock=False``, read them as they are)."""
    session = session if session is not None else db.session

    def locked() -> dict[int, dict]:
        if _postgres():  # no statement to compile: thousands of rows a chunk
            rows = session.connection().exec_driver_sql(
                "SELECT id, party_id, balance, posting_count, last_hash FROM credit_accounts "
                f"WHERE party_id = ANY(%s::int[]) ORDER BY id{' FOR UPDATE' if lock else ''}",
                (pg_array(party_ids),)).all()
        else:
            rows = session.connection().execute(
                select(CreditAccount.id, CreditAccount.party_id, CreditAccount.balance, CreditAccount.posting_count,
                       CreditAccount.last_hash).where(CreditAccount.party_id.in_(party_ids))
                .order_by(CreditAccount.id)).all()  # SQLite: one writer at a time, nothing to lock
        return {party_id: {"id": id_, "party_id": party_id, "balance": balance, "posting_count": count,
                           "last_hash": last_hash} for id_, party_id, balance, count, last_hash in rows}

    accounts = locked()
    missing = [p for p in party_ids if p not in accounts]
    if missing:
        if _postgres():
            session.connection().connection.dbapi_connection.cursor().execute(
                "INSERT INTO credit_accounts (party_id, balance, posting_count, last_hash, updated_at) "
                "SELECT unnest(%s::int[]), 0, 0, %s, %s ON CONFLICT (party_id) DO NOTHING",
                (pg_array(missing), GENESIS_HASH, now))
        else:
            session.execute(sqlite_insert(CreditAccount.__table__).on_conflict_do_nothing(), [
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
    for row in rows:
        checked(row)
    rules = _Rules(r.code for r in rows if r.error is None)
    used = used_keys(rows)
    kinds = _party_kinds({r.party_id for r in rows if r.error is None and r.party_id is not None and r.kind is None})
    outcomes, accepted = _decide(rows, rules, used, kinds, review=review, on=today())
    _store_pending([a for a in accepted if a[2]["pending"]], outcomes, now=now, actor_id=actor_id, label=label,
                   source=source, request_id=request_id)
    _append_postings([a for a in accepted if not a[2]["pending"]], outcomes, now=now, actor_id=actor_id,
                     label=label, source=source, request_id=request_id)
    return outcomes  # type: ignore[return-value]


def _decide(rows: list[Row], rules: _Rules, used: dict[str, str], kinds: dict[int, str], *, review: bool,
            on: date) -> tuple[list[Optional[Outcome]], list[tuple[int, Row, dict]]]:
    """Each row's fate, in order, as one-by-one posting would decide it: the refused and duplicate
    rows' outcomes, and the accepted rows (``used`` gains their keys) with their rule and day."""
    review_above, max_days = setting("CREDIT_REVIEW_ABOVE"), setting("CREDIT_MAX_BACKDATE_DAYS")
    outcomes: list[Optional[Outcome]] = [None] * len(rows)
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
        kind = row.kind or kinds.get(row.party_id)
        if kind is None:
            outcomes[i] = Outcome(row.line, "refused", f"party {row.party_id} not found")
            continue
        day = _effective(row.effective_date, errors, on, max_days)
        rule = None if errors.get("effective_date") else rules.pick(code, row.rule_code, day, errors)
        if errors:
            outcomes[i] = Outcome(row.line, "refused", _describe(errors))
            continue
        if kind not in rule.party_kinds:
            outcomes[i] = Outcome(row.line, "refused", f"rule_code: rule {rule.code} does not apply to a {kind}")
            continue
        used[row.key] = digest
        accepted.append((i, row, {"rule": rule, "day": day, "clean": clean, "digest": digest,
                                  "pending": review and (rule.points < 0 or rule.points > review_above)}))
    return outcomes, accepted


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
    accounts = _lock_accounts(_first_named(items), now)
    values: list[tuple] = []
    postings = _chained(items, accounts, values, now=now, actor_id=actor_id, label=label, source=source)
    ids = insert_rows(CreditPosting, postings, _POSTING_COLUMNS, ids=draw_ids(CreditPosting, len(items)))
    for (i, row, _x), posting_id in zip(items, ids):
        outcomes[i] = Outcome(row.line, "posted", posting_id=posting_id)
    audits = (_posting_audit(v, source, request_id, entity_id=posting_id) for posting_id, v in zip(ids, values))
    insert_rows(AuditEvent, audits, _AUDIT_COLUMNS, ids=draw_ids(AuditEvent, len(values)))
    _done_posting([a for a in accounts.values() if a.get("touched")], len(values), now)


def _first_named(items) -> list[int]:
    """The parties of the rows to post, in the order the rows first name them (new accounts are
    made in that order, as one-by-one posting makes them)."""
    return list(dict.fromkeys(row.party_id for _i, row, _x in items))


def _chained(items, accounts: dict[int, dict], values: list[tuple], *, now, actor_id, label, source):
    """Each posting's column values (``_POSTING_COLUMNS``), its place in its account's chain taken
    from ``accounts`` (party id -> head), which follows along; each is also kept in ``values``."""
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


def _posting_audit(v: tuple, source: str, request_id, *, entity_id) -> tuple:
    """The ``credit.posting.create`` event of a posting's values (``_POSTING_COLUMNS``)."""
    return _audit_row(v[8], v[10], v[11], "credit.posting.create", "credit_posting", entity_id, v[2],
                      _posting_audit_after(v, source), request_id)


def _posting_audit_after(v: tuple, source: str) -> dict:
    return {"rule_code": v[4], "points": v[5], "effective_date": v[6].isoformat(), "source": source,
            "source_id": v[14], "reverses_id": None, "hash": v[20]}


def _done_posting(touched: list[dict], count: int, now) -> None:
    """The accounts' new heads stored, the session's stale copies of them dropped, the count metered."""
    _update_accounts(touched, now)
    ids = {account["id"] for account in touched}
    for cached in [o for o in db.session.identity_map.values() if isinstance(o, CreditAccount) and o.id in ids]:
        db.session.expire(cached)  # the session's copies are stale now
    count_posting(count)


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


# ---------------------------------------------------------------- a chunk planned ahead


@dataclass
class Plan:
    """A chunk's postings worked out ahead, by a process that does not hold the ledger (the intake's
    preparing process), on the state it expected: ``apply_plan`` checks that state under the
    accounts' locks and stores the plan, or refuses it (then the rows go through ``post_rows``)."""

    now: datetime
    on: date
    request_id: Optional[str]
    rules: dict  # code -> versions, as read
    used: dict  # key -> request hash: the rows' keys the decisions took as used
    before: dict  # party id -> (account id, balance, posting count, last hash) expected
    outcomes: list  # per row; a posted row's posting id comes with ``apply_plan``
    pending: list  # (row index, rule, day) of the rows that wait for approval
    postings: list  # COPY text of each posting (``_POSTING_COLUMNS``), in order
    audits: list  # COPY text of each posting's event (``_AUDIT_COLUMNS`` without ``entity_id``)
    after: list  # the accounts' heads after it: dicts as ``_update_accounts`` takes them


def _copy_text(value: Optional[str]) -> str:
    """A text field of a text-format ``COPY`` line."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_lines(values: list[tuple], source: str, request_id: Optional[str]) -> tuple[list[str], list[str]]:
    """The text-format ``COPY`` lines of postings (``_POSTING_COLUMNS``) and of their events
    (``_AUDIT_COLUMNS`` without ``entity_id``), for postings of one batch: one time, one actor.
    Hex digests, integers and dates need no escaping."""
    if not values:
        return [], []
    text = _copy_text
    first = values[0]
    now, actor, label = first[8].isoformat(), "\\N" if first[10] is None else str(first[10]), text(first[11])
    source_text, request = text(source), text(request_id)
    postings = [f"{v[0]}\t{v[1]}\t{v[2]}\t{v[3]}\t{text(v[4])}\t{v[5]}\t{v[6]}\t{v[7]}\t{now}\t"
                f"{text(_json_text(v[9]))}\t{actor}\t{label}\t\\N\t{source_text}\t{text(v[14])}\t{text(v[15])}\t"
                f"{v[16]}\t\\N\t\\N\t{v[19]}\t{v[20]}\n" for v in values]
    audits = [f"{now}\t{actor}\t{label}\tcredit.posting.create\tcredit_posting\t{v[2]}\t\\N\t"
              f"{text(_json_text(_posting_audit_after(v, source)))}\t{request}\n" for v in values]
    return postings, audits


def plan_rows(rows: list[Row], *, rules: _Rules, used: dict[str, str], heads: Callable[[list[int]], dict[int, dict]],
              actor_id: Optional[int], label: str, source: str, request_id: Optional[str] = None) -> Plan:
    """What ``post_rows`` would do with ``rows`` (every row's ``kind`` known), given the rules, the
    keys already used and the accounts' heads (``heads(party_ids)``: party id -> account, followed
    along), without touching the ledger."""
    now, on = utcnow(), today()
    assumed = {row.key: used[row.key] for row in rows if row.error is None and row.key in used}
    outcomes, accepted = _decide(rows, rules, used, {}, review=True, on=on)
    items = [a for a in accepted if not a[2]["pending"]]
    accounts = heads(_first_named(items))
    before = {p: (a["id"], a["balance"], a["posting_count"], a["last_hash"]) for p, a in accounts.items()}
    values = list(_chained(items, accounts, [], now=now, actor_id=actor_id, label=label, source=source))
    postings, audits = _copy_lines(values, source, request_id)
    return Plan(now, on, request_id, rules.versions, assumed, before, outcomes,
                [(i, x["rule"], x["day"]) for i, _row, x in accepted if x["pending"]], postings, audits,
                [{"id": a["id"], "balance": a["balance"], "posting_count": a["posting_count"],
                  "last_hash": a["last_hash"]} for a in accounts.values() if a.get("touched")])


def apply_plan(rows: list[Row], plan: Plan, *, source: str, actor: Optional[User] = None) -> Optional[list[Outcome]]:
    """Store a planned chunk (PostgreSQL) if the ledger is as the plan expected: the same rules, the
    same keys used, the same day, every account's head as expected (under its lock, in id order).
    None if not: nothing was written, and the caller posts the rows with ``post_rows``."""
    label, actor_id = _actor_label(actor), actor.id if actor is not None else None
    if plan.on != today() or _Rules(r.code for r in rows if r.error is None).versions != plan.rules:
        return None
    if used_keys(rows) != plan.used:
        return None
    pending = [(i, rows[i], {"rule": rule, "day": day, "clean": rows[i].clean, "digest": rows[i].digest})
               for i, rule, day in plan.pending]
    outcomes = list(plan.outcomes)
    if plan.before:
        accounts = _lock_accounts(list(plan.before), plan.now)
        if any((a["id"], a["balance"], a["posting_count"], a["last_hash"]) != plan.before.get(p)
               for p, a in accounts.items()):
            return None
    _store_pending(pending, outcomes, now=plan.now, actor_id=actor_id, label=label, source=source,
                   request_id=plan.request_id)
    if not plan.postings:
        return outcomes
    db.session.flush()
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    ids = draw_ids(CreditPosting, len(plan.postings))
    with cursor.copy(f"COPY credit_postings (id, {', '.join(_POSTING_COLUMNS)}) FROM STDIN") as copy:
        copy.write("".join([f"{i}\t{line}" for i, line in zip(ids, plan.postings)]))
    audit_ids = draw_ids(AuditEvent, len(ids))
    columns = ", ".join(c for c in _AUDIT_COLUMNS if c != "entity_id")
    with cursor.copy(f"COPY audit_events (id, entity_id, {columns}) FROM STDIN") as copy:
        copy.write("".join([f"{a}\t{i}\t{line}" for a, i, line in zip(audit_ids, ids, plan.audits)]))
    posted = iter(ids)
    for n, outcome in enumerate(outcomes):
        if outcome is None:  # a row posted (refused, duplicate and pending rows have theirs)
            outcomes[n] = Outcome(rows[n].line, "posted", posting_id=next(posted))
    _done_posting(plan.after, len(ids), plan.now)
    return outcomes
