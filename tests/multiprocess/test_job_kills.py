"""An rq worker SIGKILLed in the middle of each long job of the platform: label sheets, rating runs, GEP.

Each test starts the job the way a user does (an API call to a real stack of gunicorn and rq
workers on PostgreSQL and Redis), waits until the job is under way (its progress past ``KILL_AT``
or, for the rating run, its rows being inserted), SIGKILLs the worker and its work horse (rq runs
the horse in a process group of its own), checks that nothing of the killed attempt is visible,
forces rq's abandoned-job handling and waits for the retry. The retry must leave exactly one
result: attempts == 2, progress 100 %, nothing twice, no half-written row or file. One more test
kills the worker alone, as a plain ``kill -9`` of its process group does: the orphaned horse goes
on while rq re-queues the job, and the two attempts must not both write.

The jobs run for seconds because of their data volumes (thousands of labels, parties and parcels),
not because of sleeps. The module has its own stack (database ``greenfin_test_stack_kills``, Redis
db 12): each test kills a worker and starts a replacement, the session's ``stack`` is left alone.
Run with ``-s`` to see when each worker died and how long the retry took.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from greenfin.dates import today as business_today
from greenfin.core import geography
from greenfin.core import services as core
from greenfin.core.identifiers import gtin_check_digit
from greenfin.core.models import AuditEvent, Parcel, Party
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.stack import http, kill_rq_worker
from tests.conftest import make_uscc
from tests.multiprocess.conftest import own_stack

pytestmark = [pytest.mark.multiprocess, pytest.mark.no_db_isolation, pytest.mark.slow]

KILLS_DB = "greenfin_test_stack_kills"
KILLS_REDIS = "redis://127.0.0.1:6379/12"
LABELS = 10_000      # one print run: a sheet of 417 A4 pages
PARTIES = 20_000     # firms, organisations and residents of the district
PARCELS = 12_000     # land parcels with their GEP attributes
KILL_AT = 40         # percent of progress from which the worker may die
JOB_TIMEOUT = 240    # seconds; generous, the machine is shared
SERIAL = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{16}\b")  # traceability.digital_link.SERIAL_ALPHABET


@pytest.fixture(scope="module")
def kills(tmp_path_factory):
    """A stack of its own: 1 gunicorn process (4 threads) and 2 rq workers."""
    with own_stack(tmp_path_factory, KILLS_DB, KILLS_REDIS, "kills", ("admin", "regulator"),
                   web_workers=1) as stack:
        yield stack


# ---------------------------------------------------------------- helpers


def _job(kills, job_id: str, token: str) -> dict:
    status, body, _ = http("GET", f"{kills['url']}/api/v1/jobs/{job_id}", token)
    assert status == 200, body
    return json.loads(body)


def half_way(job: dict) -> bool:
    return KILL_AT <= job["progress"] < 100


def inserting_into(kills, table: str):
    """A moment to kill: a session of the stack's database is inserting the job's rows into ``table``."""

    def ready(_job: dict) -> bool:
        with kills["app"].app_context():
            busy = db.session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query LIKE :insert"), {"insert": f"INSERT INTO {table} %"})
            db.session.remove()
        return bool(busy)

    return ready


def kill_worker_mid_job(kills, job_id: str, token: str, ready=half_way, with_work_horse: bool = True) -> list[int]:
    """Wait until the job is ``ready``, SIGKILL its worker (and work horse) and start a replacement
    worker; check the job is left unfinished. Returns the killed worker's children."""
    from rq import Worker

    started = time.time()
    deadline = started + JOB_TIMEOUT
    while True:
        job = _job(kills, job_id, token)
        assert job["status"] in ("queued", "started"), job
        if job["status"] == "started" and ready(job):
            break
        assert time.time() < deadline, f"the job never got there: {job}"
        time.sleep(0.05)
    victim = next((w for w in Worker.all(connection=kills["redis"]) if w.get_current_job_id() == job_id), None)
    assert victim is not None, "a worker is running the job"
    proc = next(p for p in kills["url"].rq_workers if p.pid == victim.pid)
    children = kill_rq_worker(proc, with_work_horse=with_work_horse)
    kills["url"].start_rq_worker()  # the stack keeps two workers for the retry and the next test

    killed = _job(kills, job_id, token)
    assert killed["status"] == "started" and killed["attempts"] == 1, f"killed half-way: {killed}"
    print(f"\n{killed['title']}: worker killed at {killed['progress']} % ({killed['message']}), "
          f"{time.time() - started:.1f} s after the request" + ("" if with_work_horse else ", its work horse goes on"))
    return children


def requeue_abandoned(kills, queue: str) -> None:
    """The workers' watchdog re-queues abandoned jobs within a minute (test_killed_worker_s_job_is_requeued_
    within_a_minute); these tests force it now instead. Its callback marks the job in the stack's database."""
    from rq.registry import StartedJobRegistry

    with kills["app"].app_context():
        StartedJobRegistry(queue, connection=kills["redis"]).cleanup(timestamp=time.time() + 3600)
        db.session.remove()


def wait_finished(kills, job_id: str, token: str) -> dict:
    started = time.time()
    deadline = started + JOB_TIMEOUT
    while True:
        job = _job(kills, job_id, token)
        if job["status"] in ("finished", "failed") or time.time() > deadline:
            break
        time.sleep(0.3)
    assert job["status"] == "finished", job
    assert job["attempts"] == 2 and job["progress"] == 100, job
    print(f"{job['title']}: the retry finished {time.time() - started:.1f} s after the re-queue")
    return job


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_quiet(kills, queue: str, pids: list[int]) -> None:
    """Until the processes ``pids`` have exited and rq has nothing queued or running on ``queue``."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    deadline = time.time() + JOB_TIMEOUT
    while any(map(alive, pids)) or Queue(queue, connection=kills["redis"]).count \
            or StartedJobRegistry(queue, connection=kills["redis"]).count:
        assert time.time() < deadline, "the job's attempts never ended"
        time.sleep(0.3)


def audit_count(action: str, entity_id) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.entity_id == str(entity_id)))


# ---------------------------------------------------------------- label printing


@pytest.fixture(scope="module")
def producer_lot(kills):
    """A lot of Majia pomelos and its producer's API token."""
    from traceability import services as trace

    with kills["app"].app_context():
        party = core.create_party({"kind": "firm", "name": "广丰马家柚果业合作社", "uscc": make_uscc("93"),
                                   "township_code": "danan", "village": "古村村"})
        parcel = core.create_parcel({"code": "LD-KILL-1", "holder_id": party.id, "township_code": "danan",
                                     "area_ha": Decimal("12.5"), "land_cover": "orchard", "lat": Decimal("28.49"),
                                     "lon": Decimal("118.29"), "cert_type": "land_contract",
                                     "cert_no": "赣(2021)广丰区不动产权第0000101号"})
        brand = trace.create_brand({"name": "马家柚", "name_en": "Majia pomelo"})
        trace.authorise_brand(brand.id, party.id, date(2020, 1, 1))
        body = "069" + str(uuid.uuid4().int)[:10]
        product = trace.create_product({"gtin": body + gtin_check_digit(body), "name": "马家柚鲜果",
                                        "brand_id": brand.id, "owner_id": party.id})
        lot = trace.create_lot({"code": "MJY2026KILL", "product_id": product.id, "producer_id": party.id,
                                "harvest_date": business_today() - timedelta(days=3), "quantity": Decimal(40000),
                                "parcel_ids": [parcel.id]})
        producer = core.create_user({"username": "kills-producer", "role": "producer",
                                     "password": "stack-password-1", "party_id": party.id})
        token = core.issue_token(producer, "kills")[1]
        commit()
        result = {"lot_id": lot.id, "token": token}
        db.session.remove()
    return result


def order_labels(kills, producer_lot) -> tuple[int, str]:
    status, body, _ = http("POST", f"{kills['url']}/api/v1/trace/lots/{producer_lot['lot_id']}/label-batches",
                           producer_lot["token"], {"count": LABELS, "layout": "a4-3x8"})
    assert status == 202, body
    return json.loads(body)["id"], json.loads(body)["job_id"]


def assert_one_sheet(kills, batch_id: int) -> None:
    """The batch's labels exist once each, and one PDF (nothing beside it) prints exactly them."""
    from traceability.jobs import sheet_path
    from traceability.models import Label, LabelBatch

    with kills["app"].app_context():
        path = sheet_path(batch_id)
        serials = db.session.scalars(select(Label.serial).where(Label.batch_id == batch_id)).all()
        assert len(serials) == len(set(serials)) == LABELS
        assert db.session.scalar(select(func.count(LabelBatch.id)).where(LabelBatch.id == batch_id)) == 1
        assert audit_count("trace.labels.create", batch_id) == 1
        db.session.remove()
    assert sorted(p.name for p in path.parent.glob(f"batch-{batch_id}.*")) == [path.name]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert sorted(SERIAL.findall(text)) == sorted(serials), "every stored serial printed once, and no other serial"


def test_killed_label_sheet_job_prints_one_sheet(kills, producer_lot):
    """10,000 labels: the worker and its work horse die while drawing the sheet (serials not committed)."""
    from traceability.jobs import sheet_path
    from traceability.models import Label

    batch_id, job_id = order_labels(kills, producer_lot)
    kill_worker_mid_job(kills, job_id, producer_lot["token"])
    with kills["app"].app_context():
        assert db.session.scalar(select(func.count(Label.id)).where(Label.batch_id == batch_id)) == 0
        assert not sheet_path(batch_id).exists(), "no sheet of the killed attempt"
        db.session.remove()

    requeue_abandoned(kills, "low")
    job = wait_finished(kills, job_id, producer_lot["token"])
    assert job["result"] == {"batch_id": batch_id, "labels": LABELS}
    assert_one_sheet(kills, batch_id)


def test_killed_worker_whose_work_horse_goes_on_prints_one_sheet(kills, producer_lot):
    """What killing only the worker's process group does: rq re-queues the job while the orphaned
    work horse still draws it. The retry must wait for that attempt, not run beside it."""
    batch_id, job_id = order_labels(kills, producer_lot)
    children = kill_worker_mid_job(kills, job_id, producer_lot["token"], with_work_horse=False)
    assert any(map(alive, children)), "the work horse goes on"
    requeue_abandoned(kills, "low")
    wait_quiet(kills, "low", children)

    job = _job(kills, job_id, producer_lot["token"])
    assert job["status"] == "finished" and job["attempts"] == 2 and job["progress"] == 100, job
    assert job["result"] == {"batch_id": batch_id, "labels": LABELS}
    assert_one_sheet(kills, batch_id)


def test_killed_worker_s_job_is_requeued_within_a_minute(kills, producer_lot):
    """Issue 14 item 6: nobody forces rq's maintenance. The worker and its work horse die while
    drawing; a new worker starts; the watchdog of the workers re-queues the job within 60 s, the
    job reads "retrying after a worker stopped" (not the frozen progress) until it finishes, once."""
    batch_id, job_id = order_labels(kills, producer_lot)
    kill_worker_mid_job(kills, job_id, producer_lot["token"])
    killed_at = time.time()
    frozen = _job(kills, job_id, producer_lot["token"])["progress"]

    while True:
        job = _job(kills, job_id, producer_lot["token"])
        if job["status_text"] == "工作进程停止后正在重试":
            break
        assert job["status"] == "started" and job["progress"] == frozen, job  # not yet noticed
        assert time.time() - killed_at < 60, f"not re-queued within 60 s: {job}"
        time.sleep(0.2)
    noticed = time.time() - killed_at
    print(f"re-queued {noticed:.1f} s after the kill: {job['status']}, {job['progress']} %, attempts {job['attempts']}")
    assert noticed < 60
    assert job["status"] in ("queued", "started") and job["progress"] < frozen, "the frozen progress is gone"
    assert job["interrupted_at"]
    status, body, _ = http("GET", f"{kills['url']}/api/v1/jobs/{job_id}?lang=en", producer_lot["token"])
    assert json.loads(body)["status_text"] == "Retrying after a worker stopped"

    job = wait_finished(kills, job_id, producer_lot["token"])
    assert job["status_text"] == "已完成" and job["result"] == {"batch_id": batch_id, "labels": LABELS}
    print(f"finished {time.time() - killed_at:.1f} s after the kill")
    assert_one_sheet(kills, batch_id)


# ---------------------------------------------------------------- rating run


def _insert_parties(n: int, rng: random.Random) -> None:
    """The district's parties in bulk: 60 % residents, 35 % firms, 5 % organisations."""
    townships = [t[0] for t in geography.TOWNSHIPS]
    rows = []
    for i in range(n):
        township, roll = townships[i % len(townships)], rng.random()
        if roll < 0.60:
            rows.append({"kind": "individual", "name": f"农户{i:05d}", "id_hash": uuid.uuid4().hex * 2,
                         "id_masked": "361123********" + f"{i % 10000:04d}", "township_code": township})
        else:
            rows.append({"kind": "firm" if roll < 0.95 else "organisation", "name": f"企业{i:05d}",
                         "uscc": make_uscc("91" if roll < 0.95 else "93"), "township_code": township})
    db.session.execute(insert(Party), rows)


def test_killed_rating_run_rates_every_party_once(kills):
    """20,000 parties: the worker and its work horse die while the ratings are being inserted."""
    from credit import services as credit
    from credit.models import CreditCheckpoint, CreditPosting, Rating, RatingRun

    app, token = kills["app"], kills["tokens"]["regulator"]
    period = str(business_today().year - 1)
    with app.app_context():
        _insert_parties(PARTIES, random.Random(8))
        firms = db.session.scalars(select(Party.id).where(Party.kind == "firm")
                                   .order_by(Party.id).limit(3)).all()
        for party_id, rule in zip(firms, ("FIRM_EMISSIONS_COMPLIANT", "FIRM_EMISSION_EXCEEDED", "FIRM_NO_PERMIT")):
            for n in range(4):
                credit.submit_posting(party_id, rule, idempotency_key=f"kills-{party_id}-{n}", review=False,
                                      effective_date=date(int(period), 3, 1))
        commit()
        parties = db.session.scalar(select(func.count(Party.id)))
        ledger = (db.session.scalar(select(func.count(CreditPosting.id))),
                  db.session.scalar(select(func.count(CreditCheckpoint.id))))
        db.session.remove()

    status, body, _ = http("POST", f"{kills['url']}/api/v1/credit/rating-runs", token, {"period": period})
    assert status == 202, body
    run_id, job_id = json.loads(body)["id"], json.loads(body)["job_id"]

    # It writes the ratings 500 at a time as it computes them: killed once the inserts have begun.
    kill_worker_mid_job(kills, job_id, token, ready=inserting_into(kills, "credit_ratings"))
    with app.app_context():
        assert db.session.scalar(select(func.count(Rating.id)).where(Rating.run_id == run_id)) == 0
        assert db.session.get(RatingRun, run_id).status == "queued"
        db.session.remove()

    requeue_abandoned(kills, "default")
    job = wait_finished(kills, job_id, token)
    assert job["result"]["rated"] == parties

    with app.app_context():
        run = db.session.get(RatingRun, run_id)
        assert run.status == "finished" and run.rated == parties
        rows = db.session.execute(select(Rating.party_id, Rating.run_id, Rating.colour)
                                  .where(Rating.period_id == run.period_id)).all()
        assert len(rows) == len({r.party_id for r in rows}) == parties, "one rating per party"
        assert {r.run_id for r in rows} == {run_id}
        colours = {r.party_id: r.colour for r in rows}
        assert [colours[p] for p in firms] == ["green", "red", "red"]
        assert audit_count("credit.rating_run.start", run_id) == 1
        assert audit_count("credit.rating_run.finish", run_id) == 1
        assert (db.session.scalar(select(func.count(CreditPosting.id))),
                db.session.scalar(select(func.count(CreditCheckpoint.id)))) == ledger, "ledger untouched"
        db.session.remove()


# ---------------------------------------------------------------- GEP compute


def _insert_parcels(n: int, rng: random.Random) -> None:
    """The district's parcels in bulk (Guangfeng's land-cover mix), 60 % with measured attributes."""
    from greenfin.gep.models import GepParcelAttribute

    holder = core.create_party({"kind": "organisation", "name": "广丰区林场", "uscc": make_uscc("93"),
                                "township_code": "danan"})
    mix = {"forest": 55, "orchard": 10, "farmland": 20, "tea": 1, "grassland": 2, "wetland": 1, "water": 4,
           "built": 7}
    townships = [t[0] for t in geography.TOWNSHIPS]
    first = (db.session.scalar(select(func.max(Parcel.id))) or 0) + 1
    parcels, attributes = [], []
    for i in range(first, first + n):
        parcels.append({"id": i, "code": f"GF-{i:06d}", "holder_id": holder.id,
                        "township_code": townships[i % len(townships)], "village": f"村{i % 97}",
                        "area_ha": Decimal(str(round(rng.lognormvariate(1.2, 0.9), 4) + 0.01)),
                        "land_cover": rng.choices(list(mix), weights=list(mix.values()))[0],
                        "lat": Decimal("28.44"), "lon": Decimal("118.19"), "cert_type": "land_contract",
                        "cert_no": f"赣广丰{i:06d}"})
        if rng.random() < 0.6:
            attributes.append({"parcel_id": i, "k_factor": Decimal(str(round(rng.uniform(0.02, 0.04), 6))),
                               "ls_factor": Decimal(str(round(rng.uniform(0.3, 8.0), 4))),
                               "npp": Decimal(str(round(rng.uniform(300, 1100), 2))),
                               "yield_t_ha": Decimal(str(round(rng.uniform(1, 40), 3)))})
    db.session.execute(insert(Parcel), parcels)
    db.session.execute(insert(GepParcelAttribute), attributes)


def test_killed_gep_computation_accounts_every_parcel_once(kills):
    """12,000 parcels: the worker and its work horse die while the accounts are being stored."""
    from greenfin.gep import services as gep
    from greenfin.gep.models import GepAccount, GepServiceValue, GepVersion

    app, token = kills["app"], kills["tokens"]["regulator"]
    with app.app_context():
        gep.install_reference_versions()
        _insert_parcels(PARCELS, random.Random(9))
        commit()
        version_id = db.session.scalar(select(GepVersion.id).where(GepVersion.code == "GF-2025"))
        parcels = db.session.scalar(select(func.count(Parcel.id)))
        db.session.remove()

    status, body, _ = http("POST", f"{kills['url']}/api/v1/gep/runs", token, {"year": 2025, "prices": "GF-2025"})
    assert status == 202, body
    job_id = json.loads(body)["id"]

    kill_worker_mid_job(kills, job_id, token)
    with app.app_context():
        assert db.session.scalar(select(func.count(GepAccount.id))) == 0
        assert db.session.get(GepVersion, version_id).locked_at is None
        db.session.remove()

    requeue_abandoned(kills, "default")
    job = wait_finished(kills, job_id, token)
    assert job["result"]["parcels"] == job["result"]["created"] == parcels

    with app.app_context():
        accounts = db.session.execute(select(GepAccount.parcel_id, GepAccount.job_id)
                                      .where(GepAccount.year == 2025, GepAccount.version_id == version_id)).all()
        assert len(accounts) == len({a.parcel_id for a in accounts}) == parcels, "one account per parcel"
        assert {a.job_id for a in accounts} == {job_id}
        # Every account whole: its service values are stored once each and add up to its total.
        per_account = (select(GepServiceValue.account_id, func.count().label("n"),
                              func.count(func.distinct(GepServiceValue.service)).label("services"),
                              func.sum(GepServiceValue.value).label("value"))
                       .group_by(GepServiceValue.account_id).subquery())
        broken = db.session.scalar(select(func.count()).select_from(GepAccount).outerjoin(
            per_account, per_account.c.account_id == GepAccount.id).where(
            (per_account.c.n != per_account.c.services) | (func.coalesce(per_account.c.value, 0) != GepAccount.total)))
        assert broken == 0
        assert audit_count("gep.compute", "2025:GF-2025") == 1
        assert audit_count("gep.version.lock", "GF-2025") == 1
        assert db.session.get(GepVersion, version_id).locked_at is not None
        db.session.remove()


# ---------------------------------------------------------------- bulk intake of eco-credit points

INTAKE_ROWS = 60_000  # twelve chunks of 5,000


def _upload(url: str, token: str, name: str, data: bytes) -> tuple[int, dict]:
    """POST a file as multipart/form-data (field ``file``) with the standard library."""
    import urllib.error
    import urllib.request

    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_killed_intake_job_posts_every_row_once(kills):
    """60,000 rows (10 % refused, 5 % repeats): the worker and its work horse die in the middle of the
    intake. The chunks committed before stay; the retry resumes at the next one: every row posted
    once, each refused line reported once, one audit event per posting, the chains verify."""
    from credit import services as credit
    from credit.models import CreditIntake, CreditIntakeError, CreditPosting

    app, token = kills["app"], kills["tokens"]["regulator"]
    rng = random.Random(17)
    with app.app_context():
        codes = [make_uscc("91") for _ in range(3000)]
        db.session.execute(insert(Party), [{"kind": "firm", "name": f"受检企业{i:04d}", "uscc": code,
                                            "township_code": "danan"} for i, code in enumerate(codes)])
        commit()
        db.session.remove()
    lines, made, expect = ["party,rule_code,effective_date,document,inspector,note,source_id"], [], {
        "posted": 0, "pending": 0, "duplicate": 0, "refused": 0}
    for n in range(INTAKE_ROWS):
        roll = rng.random()
        if roll < 0.05 and made:
            lines.append(made[rng.randrange(len(made))])
            expect["duplicate"] += 1
            continue
        rule = "GREEN_WASTE_SORTING" if roll < 0.15 else "FIRM_DISCLOSURE"
        lines.append(f"{rng.choice(codes)},{rule},2026-10-{1 + n % 28:02d},JC-{n},巡查员,,KILL-{n}")
        if rule == "FIRM_DISCLOSURE":
            expect["posted"] += 1
            made.append(lines[-1])
        else:
            expect["refused"] += 1

    status, body = _upload(f"{kills['url']}/api/v1/credit/intakes", token, "checks.csv",
                           ("\n".join(lines) + "\n").encode())
    assert status == 202, body
    intake_id, job_id = body["id"], body["job_id"]
    kill_worker_mid_job(kills, job_id, token)
    with app.app_context():
        intake = db.session.get(CreditIntake, intake_id)
        assert 0 < intake.chunks_done < 12 and intake.rows_done == intake.chunks_done * 5000
        posted = db.session.scalar(select(func.count(CreditPosting.id)).where(CreditPosting.source_id.like("KILL-%")))
        assert posted == intake.posted, "what the killed attempt committed is whole chunks, counted"
        db.session.remove()

    requeue_abandoned(kills, "default")
    job = wait_finished(kills, job_id, token)
    assert job["result"] == {"intake_id": intake_id, **expect}
    with app.app_context():
        keys = db.session.scalars(select(CreditPosting.idempotency_key).where(
            CreditPosting.source_id.like("KILL-%"))).all()
        assert len(keys) == len(set(keys)) == expect["posted"]
        lines_refused = db.session.scalars(select(CreditIntakeError.line).where(
            CreditIntakeError.intake_id == intake_id)).all()
        assert len(lines_refused) == len(set(lines_refused)) == expect["refused"]
        audits = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "credit.posting.create", AuditEvent.entity_id.in_(
                select(func.cast(CreditPosting.id, db.String)).where(CreditPosting.source_id.like("KILL-%")))))
        assert audits == expect["posted"]
        assert audit_count("credit.intake.finish", intake_id) == 1
        assert credit.verify_ledger().ok
        db.session.remove()
