"""Bulk intake: set-based posting equals posting one by one; chunks resume; files are idempotent;
the intake API, the batch API and the error report."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import credit.bulk
import credit.intake
import credit.ledger
from credit import services
from credit.common import _actor_label
from credit.importer import describe
from credit.models import CreditAccount, CreditIntake, CreditPendingPosting, CreditPosting
from greenfin.core.models import AuditEvent, Party
from greenfin.dates import today
from greenfin.errors import DomainError
from greenfin.extensions import db
from greenfin.jobs import discard_pending
from tests.conftest import make_resident_id, using_postgres

HEADER = "party,rule_code,effective_date,document,inspector,note,source_id\n"
FROZEN = datetime(2026, 11, 20, 8, 30, 15, 123456, tzinfo=timezone.utc)
# Rules for firms, for individuals, one waiting for review (negative), one that does not exist.
RULES = ("FIRM_DISCLOSURE", "FIRM_EMISSIONS_COMPLIANT", "GREEN_TREE_PLANTING", "VIOL_STRAW_BURNING", "NO_SUCH_RULE")


def ledger_state() -> dict:
    """What the ledger holds, in a form two runs can compare (ids aside)."""
    db.session.flush()
    postings = db.session.execute(select(
        CreditPosting.party_id, CreditPosting.seq, CreditPosting.rule_code, CreditPosting.points,
        CreditPosting.effective_date, CreditPosting.expires_on, CreditPosting.idempotency_key,
        CreditPosting.request_hash, CreditPosting.prev_hash, CreditPosting.hash).order_by(CreditPosting.id)).all()
    pending = db.session.execute(select(
        CreditPendingPosting.party_id, CreditPendingPosting.rule_code, CreditPendingPosting.points,
        CreditPendingPosting.idempotency_key, CreditPendingPosting.request_hash)
        .order_by(CreditPendingPosting.id)).all()
    accounts = db.session.execute(select(CreditAccount.party_id, CreditAccount.balance, CreditAccount.posting_count,
                                         CreditAccount.last_hash).order_by(CreditAccount.party_id)).all()
    audits = sorted(db.session.execute(select(AuditEvent.action, AuditEvent.party_id, AuditEvent.actor_label,
                                              AuditEvent.entity_type).where(AuditEvent.action.like("credit.%"))).all())
    return {"postings": [tuple(r) for r in postings], "pending": [tuple(r) for r in pending],
            "accounts": [tuple(r) for r in accounts], "audits": [tuple(r) for r in audits]}


def one_by_one(rows: list[credit.bulk.Row]) -> list[tuple]:
    """What the import did before bulk intake: ``submit_posting`` per row, each in a savepoint."""
    outcomes = []
    for row in rows:
        savepoint = db.session.begin_nested()
        try:
            result = services.submit_posting(row.party_id, row.rule_code, idempotency_key=row.key,
                                             effective_date=row.effective_date, evidence=row.evidence,
                                             source="csv", source_id=row.source_id)
            savepoint.commit()
            outcomes.append((row.line, "duplicate" if result.replayed else result.status, None))
        except DomainError as exc:
            savepoint.rollback()
            outcomes.append((row.line, "refused", describe(exc)))
    return outcomes


@pytest.fixture
def frozen_clock(monkeypatch):
    for module in (credit.ledger, credit.bulk):
        monkeypatch.setattr(module, "utcnow", lambda: FROZEN)


def row_strategy(party_ids):
    day = st.one_of(st.none(), st.integers(-30, 2).map(lambda d: today() + timedelta(days=d)))
    return st.builds(
        lambda party, rule, effective, key, doc: credit.bulk.Row(
            0, party, rule, f"k{key}", effective_date=effective, evidence={"document": f"D{doc}"} if doc else {},
            source_id=f"k{key}"),
        st.sampled_from(party_ids), st.sampled_from(RULES), day, st.integers(0, 12), st.integers(0, 2))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bulk_posting_equals_posting_one_by_one(create_party, frozen_clock, data):
    """Chains, balances, pending requests, audit events and each row's outcome are the same as
    posting the rows one by one (hashes included: the clock is frozen for both runs)."""
    party_ids = [create_party().id, create_party().id, create_party(kind="individual").id]
    if using_postgres():  # a sequence does not roll back: make the accounts (ids in the hashes) first
        for party_id in party_ids:
            credit.ledger.lock_account(party_id)
    rows = data.draw(st.lists(row_strategy(party_ids), min_size=1, max_size=30))
    for line, row in enumerate(rows, 2):
        row.line = line

    single_run = db.session.begin_nested()
    singles = one_by_one(rows)
    expected = ledger_state()
    single_run.rollback()

    bulk_run = db.session.begin_nested()
    outcomes = services.post_rows(rows, source="csv")
    got = ledger_state()
    report = services.verify_ledger()
    bulk_run.rollback()

    assert [(o.line, o.status, o.reason) for o in outcomes] == singles
    assert got == expected
    assert report.ok, report.problems

    if using_postgres():  # a plan made ahead (the intake's preparing process) and stored with COPY
        kinds = {p.id: p.kind for p in db.session.scalars(select(Party).where(Party.id.in_(party_ids)))}
        planned_run = db.session.begin_nested()
        outcomes = apply_plan(rows, plan_ahead(rows, kinds))
        got = ledger_state()
        report = services.verify_ledger()
        planned_run.rollback()
        assert outcomes is not None, "nothing moved: the plan is stored"
        assert [(o.line, o.status, o.reason) for o in outcomes] == singles
        assert got == expected
        assert report.ok, report.problems


def plan_ahead(rows: list[credit.bulk.Row], kinds: dict[int, str]) -> credit.bulk.Plan:
    """A plan for ``rows`` made as the preparing process makes one, on the ledger as it stands."""
    for row in rows:
        credit.bulk.checked(row)
        row.kind = kinds.get(row.party_id)
    return credit.bulk.plan_rows(
        rows, rules=credit.bulk._Rules(r.code for r in rows if r.error is None), used=credit.bulk.used_keys(rows),
        heads=lambda parties: credit.bulk._lock_accounts(parties, FROZEN, lock=False), actor_id=None,
        label=_actor_label(None), source="csv")


def apply_plan(rows, plan):
    return credit.bulk.apply_plan(rows, plan, source="csv")


@pytest.mark.skipif(not using_postgres(), reason="plans are stored with COPY (PostgreSQL)")
def test_plans_made_ahead_post_what_posting_in_turn_posts_and_a_moved_ledger_refuses_them(create_party, frozen_clock,
                                                                                          monkeypatch):
    """The intake's planner works a chunk out while the chunks before are still being posted (their
    heads and keys followed in memory). A posting from elsewhere moves a chain: the plan made before
    it is refused whole (nothing written), the chunk goes through ``post_rows``, and the planner waits
    for that chunk and reads the ledger again. The ledger ends as posting the chunks in turn leaves it."""
    import multiprocessing

    firm, person = create_party(), create_party(kind="individual")
    for party in (firm, person):  # account ids are in the hashes: the same in both runs
        credit.ledger.lock_account(party.id)
    intake_id = start(csv_file(intake_rows(firm, person, 30)), chunk_size=5)
    intake = db.session.get(CreditIntake, intake_id)
    content = intake.content

    def chunks() -> list[list[credit.bulk.Row]]:
        return [credit.intake._rows_of(chunk) for _i, chunk in credit.intake._chunks(content, "csv", 5)]

    def elsewhere():
        services.submit_posting(firm.id, "FIRM_DISCLOSURE", idempotency_key="from-elsewhere", source="api")

    def done(count: int) -> None:
        intake.chunks_done = count
        db.session.flush()

    planned_run = db.session.begin_nested()
    rows, fallbacks, outcomes = chunks(), multiprocessing.Value("i", 0), []
    planner = credit.intake._Planner(db.session, intake_id, fallbacks, actor_id=None, label=_actor_label(None),
                                     source="csv")
    plans = [planner.plan(0, rows[0]), planner.plan(1, rows[1])]  # row 9 repeats row 0, still in flight
    for index in (0, 1):
        outcomes.append(apply_plan(rows[index], plans[index]))
        done(index + 1)
    plan = planner.plan(2, rows[2])
    elsewhere()
    stored = db.session.scalar(select(func.count(CreditPosting.id)))
    assert apply_plan(rows[2], plan) is None
    assert db.session.scalar(select(func.count(CreditPosting.id))) == stored, "a refused plan writes nothing"
    outcomes.append(services.post_rows(rows[2], source="csv"))
    fallbacks.value += 1
    waited = []
    monkeypatch.setattr(credit.intake.time, "sleep", lambda _seconds: waited.append(done(3)))
    plans = [planner.plan(3, rows[3]), planner.plan(4, rows[4])]  # after chunk 2, then 4 on 3 in flight
    assert waited, "the planner waited for the chunk it had planned wrongly"
    for index in (3, 4):
        outcomes.append(apply_plan(rows[index], plans[index - 3]))
        done(index + 1)
    outcomes.append(apply_plan(rows[5], planner.plan(5, rows[5])))  # row 29 repeats row 20
    got = ledger_state()
    report = services.verify_ledger()
    planned_run.rollback()

    in_turn = db.session.begin_nested()
    rows, expected = chunks(), []
    for index in range(6):
        if index == 2:
            elsewhere()
        expected.append(services.post_rows(rows[index], source="csv"))
    want = ledger_state()
    in_turn.rollback()

    assert all(o is not None for o in outcomes), "every plan but the one made before the posting is stored"
    assert [[(o.line, o.status, o.reason) for o in chunk] for chunk in outcomes] == [
        [(o.line, o.status, o.reason) for o in chunk] for chunk in expected]
    assert [o.status for chunk in outcomes for o in chunk].count("duplicate") == 3
    assert got == want
    assert report.ok, report.problems


def csv_file(rows: list[str]) -> bytes:
    return (HEADER + "".join(line + "\n" for line in rows)).encode("utf-8")


def intake_rows(firm, person, count: int) -> list[str]:
    rows = []
    for n in range(count):
        if n % 10 == 3:  # refused: a rule for organisations and individuals
            rows.append(f"{firm.uscc},GREEN_WASTE_SORTING,2026-10-01,D{n},王巡查,,R-{n}")
        elif n % 10 == 7:  # pending: a negative rule waits for a regulator
            rows.append(f"{person.id},VIOL_STRAW_BURNING,2026-10-02,D{n},李环保,,R-{n}")
        elif n % 10 == 9:  # an exact repeat of an earlier row
            rows.append(rows[n - 9])
        else:
            rows.append(f"{firm.uscc},FIRM_DISCLOSURE,2026-10-0{1 + n % 9},D{n},王巡查,,R-{n}")
    return rows


def start(data: bytes, chunk_size: int = 7, name: str = "checks.csv") -> int:
    intake = services.start_intake(data, name, chunk_size=chunk_size)
    discard_pending()  # these tests run the job's work themselves
    db.session.commit()
    return intake.id


@pytest.fixture(scope="module")
def committed_parties(app):
    """A firm and an individual committed for real (PostgreSQL): the second process that prepares
    an intake's chunks reads parties on its own connection, outside the test's transaction.
    Removed when the module's tests are done (their own work is rolled back before)."""
    from types import SimpleNamespace

    from sqlalchemy import delete, insert

    from greenfin.core.identifiers import hash_resident_id
    from greenfin.core.models import Party
    from tests.conftest import make_uscc

    if not using_postgres():
        yield None
        return
    with app.app_context():
        uscc, id_hash = make_uscc("91"), hash_resident_id(make_resident_id(), app.config["PII_HASH_KEY"])
        with db.engine.begin() as conn:
            firm_id, person_id = conn.execute(insert(Party).returning(Party.id), [
                {"kind": "firm", "name": "预备进程企业", "uscc": uscc, "id_hash": None, "township_code": "danan"},
                {"kind": "individual", "name": "预备进程村民", "uscc": None, "id_hash": id_hash, "township_code": "danan"},
            ]).scalars().all()
        yield SimpleNamespace(id=firm_id, uscc=uscc), SimpleNamespace(id=person_id, uscc=None)
        with db.engine.begin() as conn:
            conn.execute(delete(Party).where(Party.id.in_([firm_id, person_id])))


@pytest.fixture(params=["here", "aside"])
def preparing(request, app, monkeypatch, create_party, committed_parties):
    """Where the chunks are prepared: in the posting process, or (PostgreSQL) in a second process
    while the posting process takes the previous chunk (any file size here). Yields a firm and an
    individual for the intake."""
    if request.param == "here":
        yield create_party(), create_party(kind="individual")
        return
    if not using_postgres():
        pytest.skip("the second process prepares chunks on PostgreSQL only")
    monkeypatch.setitem(app.config, "CREDIT_INTAKE_OVERLAP_ROWS", 0)
    real, aside = credit.intake._prepared_aside, []

    def spy(*args):
        aside.append(args[1:])
        return real(*args)

    monkeypatch.setattr(credit.intake, "_prepared_aside", spy)
    yield committed_parties
    assert aside, "the second process prepared the chunks"


def test_intake_resumes_after_a_failed_chunk_and_posts_each_row_once(monkeypatch, preparing):
    firm, person = preparing
    rows = intake_rows(firm, person, 40)
    intake_id = start(csv_file(rows))
    real = credit.intake.post_rows
    calls = []

    def dies_on_the_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(credit.intake, "post_rows", dies_on_the_third_chunk)
    with pytest.raises(RuntimeError):
        credit.intake.run_intake(intake_id)
    db.session.rollback()
    intake = db.session.get(CreditIntake, intake_id, populate_existing=True)
    assert (intake.chunks_done, intake.rows_done) == (2, 14)
    posted_before = db.session.scalar(select(func.count(CreditPosting.id)))
    assert posted_before == intake.posted > 0

    seen = []
    credit.intake.run_intake(intake_id, progress=lambda percent, *_stage: seen.append(percent))
    db.session.commit()
    intake = db.session.get(CreditIntake, intake_id, populate_existing=True)
    assert len(calls) == 3 + 4 and seen == sorted(seen) and seen[-1] == 99  # chunks 3..6 (40 rows by 7)
    assert (intake.chunks_done, intake.rows_done, intake.rows_total) == (6, 40, 40)
    assert services.counts_of(intake) == {"posted": 28, "pending": 4, "duplicate": 4, "refused": 4}
    keys = db.session.scalars(select(CreditPosting.idempotency_key)).all()
    assert len(keys) == len(set(keys)) == intake.posted
    audits = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "credit.posting.create"))
    assert audits == intake.posted
    assert services.verify_ledger().ok


@pytest.mark.skipif(not using_postgres(), reason="the second process prepares chunks on PostgreSQL only")
def test_an_error_in_the_preparing_process_fails_the_job_and_the_retry_resumes(committed_parties, app, monkeypatch):
    """The preparing process's error fails the job; the chunks posted before it stay, once."""
    firm, person = committed_parties
    intake_id = start(csv_file(intake_rows(firm, person, 40)))
    monkeypatch.setitem(app.config, "CREDIT_INTAKE_OVERLAP_ROWS", 0)
    real, prepared = credit.intake._rows_of, []

    def fails_on_the_third_chunk(chunk, session=None):
        prepared.append(1)  # counted in the preparing process (forked after the patch)
        if len(prepared) == 3:
            raise ValueError("a broken chunk")
        return real(chunk, session)

    monkeypatch.setattr(credit.intake, "_rows_of", fails_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="ValueError: a broken chunk"):
        credit.intake.run_intake(intake_id)
    db.session.rollback()
    assert prepared == [], "the rows were prepared in the second process"
    intake = db.session.get(CreditIntake, intake_id, populate_existing=True)
    assert (intake.chunks_done, intake.rows_done) == (2, 14)

    monkeypatch.setattr(credit.intake, "_rows_of", real)
    credit.intake.run_intake(intake_id)
    db.session.commit()
    intake = db.session.get(CreditIntake, intake_id, populate_existing=True)
    assert services.counts_of(intake) == {"posted": 28, "pending": 4, "duplicate": 4, "refused": 4}
    assert db.session.scalar(select(func.count(CreditPosting.id))) == 28
    assert services.verify_ledger().ok


@pytest.mark.skipif(not using_postgres(), reason="PostgreSQL array literals")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12),
                max_size=8), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=8))
def test_array_parameters_reach_the_database_as_sent(app, texts, numbers):
    from sqlalchemy import text

    assert db.session.execute(text("SELECT CAST(:t AS text[]), CAST(:n AS integer[])"),
                              {"t": credit.bulk.pg_array(texts), "n": credit.bulk.pg_array(numbers)}).one() == \
        (texts, numbers)


def test_same_file_twice_posts_nothing_and_reports_each_refused_row_once(create_party):
    firm, person = create_party(), create_party(kind="individual")
    rows = intake_rows(firm, person, 30) + [f"{firm.uscc},FIRM_DISCLOSURE,2026-13-01,X,王,,BAD-DATE",
                                            "913611030000000000,FIRM_DISCLOSURE,2026-10-01,X,王,,NOBODY",
                                            f"{firm.uscc},FIRM_DISCLOSURE,2026-10-01,X,王,,R-0,extra"]
    data = csv_file(rows)
    first = start(data)
    credit.intake.run_intake(first)
    db.session.commit()
    balance = services.balance(firm.id)
    report = list(csv.reader(io.StringIO(services.intake_errors_csv(first))))
    assert report[0] == ["line", "reason"]
    lines = [int(r[0]) for r in report[1:]]
    assert lines == sorted(set(lines)) and len(lines) == services.get_intake(first).refused == 6
    reasons = dict((int(r[0]), r[1]) for r in report[1:])
    assert reasons[32] == "effective_date '2026-13-01' is not YYYY-MM-DD"
    assert reasons[33] == "unknown party '913611030000000000'"
    assert reasons[34] == "more values than columns"
    assert reasons[5] == "rule_code: rule GREEN_WASTE_SORTING does not apply to a firm"

    second = start(data)
    credit.intake.run_intake(second)
    db.session.commit()
    again = services.get_intake(second)
    assert again.posted == 0 and again.pending == 0
    assert again.duplicate == 30 - 3 and again.refused == 6
    assert services.balance(firm.id) == balance


def test_jsonl_intake_and_file_shape_errors(create_party):
    firm = create_party()
    resident = make_resident_id()
    person = create_party(kind="individual", resident_id=resident)
    lines = [json.dumps({"party": firm.uscc, "rule_code": "FIRM_DISCLOSURE", "effective_date": "2026-10-01",
                         "source_id": "J-1"}, ensure_ascii=False), "[1, 2]", "{not json",
             json.dumps({"party": resident, "rule_code": "GREEN_TREE_PLANTING", "source_id": "J-2"})]
    intake_id = start(("\n".join(lines) + "\n").encode("utf-8"), name="push.jsonl")
    credit.intake.run_intake(intake_id)
    intake = services.get_intake(intake_id)
    assert intake.format == "jsonl" and (intake.posted, intake.refused) == (2, 2)
    assert services.balance(person.id) == 3  # found by the resident ID number's keyed hash
    assert [e.reason for e in db.session.scalars(services.intake_errors_query(intake_id))] == [
        "not a JSON object", "not valid JSON"]
    with pytest.raises(DomainError) as missing:
        services.start_intake(b"name,points\nx,1\n", "bad.csv")
    assert "line 1: missing column(s) party, rule_code" in describe(missing.value)
    with pytest.raises(DomainError):
        services.start_intake(HEADER.encode(), "empty.csv")
    with pytest.raises(DomainError):
        services.start_intake("party\n\xff".encode("latin-1"), "latin.csv")


def test_intake_api_uploads_and_reports(api, create_party, drain_jobs):
    firm = create_party()
    client = api("regulator")
    data = csv_file([f"{firm.uscc},FIRM_DISCLOSURE,2026-10-01,D,王,,A-1",
                     f"{firm.uscc},GREEN_WASTE_SORTING,2026-10-01,D,王,,A-2"])
    response = client.post("/api/v1/credit/intakes", data={"file": (io.BytesIO(data), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    intake_id = response.json["id"]
    assert response.json["rows_total"] == 2 and response.json["job_url"].startswith("/api/v1/jobs/")
    drain_jobs()
    db.session.expire_all()
    body = client.get(f"/api/v1/credit/intakes/{intake_id}").json
    assert (body["posted"], body["refused"], body["rows_done"]) == (1, 1, 2)
    errors = client.get(f"/api/v1/credit/intakes/{intake_id}/errors").json
    assert errors == [{"line": 3, "reason": "rule_code: rule GREEN_WASTE_SORTING does not apply to a firm"}]
    bad = client.post("/api/v1/credit/intakes", data={"file": (io.BytesIO(b"x,y\n1,2\n"), "b.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "file" in bad.json["errors"]
    assert api("loan_officer").post("/api/v1/credit/intakes", data={"file": (io.BytesIO(data), "a.csv")},
                                    content_type="multipart/form-data").status_code == 403


def test_batch_api_answers_per_item_in_one_transaction(api, create_party):
    firm, person = create_party(), create_party(kind="individual")
    client = api("regulator")
    items = [{"party_id": firm.id, "rule_code": "FIRM_DISCLOSURE", "idempotency_key": "b-1"},
             {"party_id": person.id, "rule_code": "VIOL_STRAW_BURNING", "idempotency_key": "b-2"},
             {"party_id": firm.id, "rule_code": "GREEN_WASTE_SORTING", "idempotency_key": "b-3"},
             {"party_id": firm.id, "rule_code": "FIRM_DISCLOSURE", "idempotency_key": "b-1"},
             {"party_id": 999999, "rule_code": "FIRM_DISCLOSURE", "idempotency_key": "b-4"}]
    first = client.post("/api/v1/credit/postings:batch", json={"postings": items})
    assert first.status_code == 200, first.json
    assert [r["status"] for r in first.json["results"]] == ["posted", "pending", "refused", "duplicate", "refused"]
    assert first.json["results"][4]["reason"] == "party 999999 not found"
    assert first.json["counts"] == {"posted": 1, "pending": 1, "duplicate": 1, "refused": 2}
    again = client.post("/api/v1/credit/postings:batch", json={"postings": items[:2]})
    assert [r["status"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    conflict = client.post("/api/v1/credit/postings:batch", json={"postings": [
        {"party_id": firm.id, "rule_code": "FIRM_EMISSIONS_COMPLIANT", "idempotency_key": "b-1"}]})
    assert conflict.json["results"][0]["reason"] == "idempotency key b-1 was used with different content"
    assert services.balance(firm.id) == 3
    too_many = client.post("/api/v1/credit/postings:batch", json={"postings": items * 201})
    assert too_many.status_code == 422 and "postings" in too_many.json["errors"]
    missing_key = client.post("/api/v1/credit/postings:batch", json={"postings": [{"party_id": firm.id,
                                                                                   "rule_code": "FIRM_DISCLOSURE"}]})
    assert missing_key.status_code == 422


def test_import_page_starts_an_intake_and_offers_the_error_report(client, login, create_user, create_party,
                                                                  drain_jobs):
    firm = create_party()
    login(create_user("regulator"))
    body = csv_file([f"{firm.uscc},FIRM_DISCLOSURE,2026-10-01,年报,王巡查,,WEB-1",
                     f"{firm.uscc},NOPE,2026-10-01,年报,王巡查,,WEB-2"])
    response = client.post("/credit/import", data={"csv_file": (io.BytesIO(body), "rows.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    drain_jobs()
    db.session.expire_all()
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "line 3: rule_code: unknown rule NOPE" in html and "<progress" in html
    assert services.balance(firm.id) == 3
    report = client.get(response.headers["Location"] + "/errors.csv")
    assert report.status_code == 200 and "3,rule_code: unknown rule NOPE" in report.get_data(as_text=True)
    bad = client.post("/credit/import", data={"csv_file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "missing column(s)" in bad.get_data(as_text=True)
    listing = client.get("/credit/import").get_data(as_text=True)
    assert "rows.csv" in listing


def statements_for(rows) -> int:
    """How many SQL statements ``post_rows`` sends for ``rows`` (rolled back afterwards)."""
    from sqlalchemy import event

    seen = []
    engine = db.session.get_bind().engine

    def count(*_args, **_kwargs):
        seen.append(1)

    nested = db.session.begin_nested()
    event.listen(engine, "before_cursor_execute", count)
    try:
        services.post_rows(rows, source="csv")
    finally:
        event.remove(engine, "before_cursor_execute", count)
        nested.rollback()
    return len(seen)


def test_refused_rows_cost_no_statement_of_their_own(create_party):
    """A chunk's statements do not grow with its refused rows (no savepoint, no rollback per row),
    and a refused row never costs more than a good one."""
    firm = create_party()

    def rows(count, rule):
        return [credit.bulk.Row(n, firm.id, rule, f"cost-{rule}-{n}", source_id=f"cost-{n}") for n in range(count)]

    few_refused, many_refused = statements_for(rows(5, "GREEN_WASTE_SORTING")), statements_for(
        rows(200, "GREEN_WASTE_SORTING"))
    good = statements_for(rows(200, "FIRM_DISCLOSURE"))
    assert few_refused == many_refused < good


def test_long_evidence_is_refused_like_a_single_posting(create_party):
    firm = create_party()
    long_evidence = {f"page{n}": "检" * 500 for n in range(8)}  # 4,000 characters of text: over 4,000 in JSON
    short_evidence = {f"page{n}": "检" * 450 for n in range(8)}
    rows = [credit.bulk.Row(2, firm.id, "FIRM_DISCLOSURE", "ev-long", evidence=long_evidence),
            credit.bulk.Row(3, firm.id, "FIRM_DISCLOSURE", "ev-short", evidence=short_evidence)]
    outcomes = services.post_rows(rows, source="csv")
    assert [(o.status, o.reason) for o in outcomes] == [("refused", "evidence: is too long"), ("posted", None)]
    with pytest.raises(DomainError) as single:
        services.submit_posting(firm.id, "FIRM_DISCLOSURE", idempotency_key="ev-long-1", evidence=long_evidence)
    assert describe(single.value) == "evidence: is too long"


def test_resident_numbers_are_masked_in_the_report_and_the_file_dropped_when_done(create_party):
    firm, stranger = create_party(), make_resident_id()
    intake_id = start(csv_file([f"{firm.uscc},FIRM_DISCLOSURE,2026-10-01,D,王,,M-1",
                                f"{stranger},GREEN_TREE_PLANTING,2026-10-01,D,王,,M-2"]))
    credit.intake.run_intake(intake_id)
    db.session.commit()
    (reason,) = [e.reason for e in db.session.scalars(services.intake_errors_query(intake_id))]
    assert reason == f"unknown party '{stranger[:3]}{'*' * 11}{stranger[-4:]}'" and stranger not in reason
    assert db.session.scalar(select(CreditIntake.content).where(CreditIntake.id == intake_id)) == b""
