"""Public pages on a real streaming standby (greenfin/replica.py), under gunicorn.

The test makes two throwaway PostgreSQL clusters in a temp dir: a primary (``initdb``; the shared
server on 5432 does not accept replication connections, and a test should not leave WAL senders or
slots on it) and a hot standby made from it with ``pg_basebackup -R``, both on free ports and
logging every statement (``log_statement = all``), so the test sees which server ran each query:
it writes a marker statement to both logs before and after each request and reads what lies between.

It shows public pages (catalogue, disclosure, the scan page's lot facts) read on the standby, the
scan record written on the primary (``trace_record_scan``) and streamed to the standby, the primary
answering while the standby's replay is paused beyond ``REPLICA_MAX_LAG_SECONDS``, and the same
pages from the primary after the standby is stopped, each fallback counted in ``/metrics``.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from greenfin.extensions import db
from greenfin.stack import BIN, ROOT, free_port, http, running_stack
from tests.conftest import migrated_app, using_postgres

pytestmark = [pytest.mark.multiprocess, pytest.mark.no_db_isolation, pytest.mark.slow]

TOKEN = "replica-metrics-token"
MAX_LAG = 2.0
PUBLIC_PAGES = ("/market/catalogue", "/disclosure/pools", "/disclosure/carbon", "/credit/public")
STATEMENT = re.compile(r"^\S+ \S+ \S+ \[\d+\] (\S*) ?LOG:\s+(?:statement|execute [^:]*): (.*(?:\n\t.*)*)", re.M)
MARKER_APP = "greenfin-test-marker"  # the markers' and the test's own connections, left out
# Left out too: transaction control, a new connection's set-up, and the replica check's own look-ups
# (the primary's WAL position, the replica's replay position).
NOISE = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|DEALLOCATE|select pg_catalog\.version|select current_schema|show )"
                   r"|FROM pg_type t|pg_current_wal_lsn|pg_is_in_recovery", re.I)


def postgres_bin() -> Path | None:
    """The newest installed server binaries (Debian's layout), or None."""
    for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        if all((Path(path) / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(path)
    return None


class Cluster:
    """One throwaway cluster: its data directory, port and statement log."""

    def __init__(self, bin_dir: Path, base: Path, name: str, as_user: list[str]) -> None:
        self.bin, self.name, self.as_user = bin_dir, name, as_user
        self.data, self.log, self.port = base / name, base / f"{name}.log", free_port()
        self.socket_dir = base
        self.running = True
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/greenfin"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=300)

    def configure(self) -> None:
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.socket_dir}'\n")

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                       capture_output=True, timeout=120)

    def scalar(self, sql, database: str = "greenfin"):
        engine = create_engine(self.url.rsplit("/", 1)[0] + "/" + database, isolation_level="AUTOCOMMIT",
                               poolclass=NullPool, connect_args={"application_name": MARKER_APP})
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql) if isinstance(sql, str) else sql)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()


@contextmanager
def primary_and_standby(bin_dir: Path, instance: Path):
    """A migrated, seeded primary and its streaming standby; both stopped and removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="greenfin-replica-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    primary = Cluster(bin_dir, base, "primary", as_user)
    standby = Cluster(bin_dir, base, "standby", as_user)
    try:
        primary.run("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8")
        primary.configure()
        with open(primary.data / "postgresql.conf", "a") as conf:
            # What a deployment's primary needs for a streaming standby (docs/deploy.md), and logs.
            conf.write("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
                       "log_statement = 'all'\nlog_line_prefix = '%m [%p] %a '\n")
        primary.start()
        primary.scalar("CREATE DATABASE greenfin", database="postgres")
        app = migrated_app(primary.url, instance=instance)
        with app.app_context():
            db.engine.dispose()
        env = {**os.environ, "DATABASE_URL": primary.url, "GREENFIN_INSTANCE": str(instance), "LOG_LEVEL": "WARNING"}
        env.pop("GREENFIN_TEST_DB", None)
        seeded = subprocess.run([str(BIN / "flask"), "--app", "greenfin", "seed-demo"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
        assert seeded.returncode == 0, seeded.stdout[-2000:] + seeded.stderr[-2000:]
        primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                    "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast")
        standby.configure()  # after the copied primary settings: its own port
        standby.start()
        deadline = time.time() + 60
        while standby.scalar("SELECT status FROM pg_stat_wal_receiver", database="postgres") != "streaming":
            assert time.time() < deadline, "the standby did not start streaming"
            time.sleep(0.3)
        yield app, primary, standby
    finally:
        standby.stop("immediate")
        primary.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


class Logs:
    """What each server ran between two markers."""

    def __init__(self, *clusters: Cluster) -> None:
        self.clusters, self.n = clusters, 0

    def mark(self) -> str:
        self.n += 1
        marker = f"greenfin-marker-{self.n}"
        for cluster in self.clusters:
            if cluster.running:
                cluster.scalar(f"SELECT '{marker}'", database="postgres")
        return marker

    @contextmanager
    def between(self):
        """Yields a dict filled on exit: cluster name -> the statements it logged meanwhile."""
        seen: dict[str, list[str]] = {}
        start = self.mark()
        yield seen
        end = self.mark()
        for cluster in self.clusters:
            if not cluster.running:
                seen[cluster.name] = []
                continue
            deadline = time.time() + 10
            while end not in (log := cluster.log.read_text(errors="replace")):
                assert time.time() < deadline
                time.sleep(0.05)
            part = log[log.index(start):log.index(end)]
            seen[cluster.name] = [m.group(2) for m in STATEMENT.finditer(part)
                                  if m.group(1) != MARKER_APP and not NOISE.search(m.group(2))]


def behind(primary: Cluster, standby: Cluster) -> bool:
    """The standby has not replayed all the primary has written."""
    written = primary.scalar("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn", database="postgres")
    return standby.scalar("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn", database="postgres") < written


def metric(base: str, name: str, labels: dict | None = None) -> float:
    status, body, _ = http("GET", base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    total = 0.0
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                total += sample.value
    return total


def readiness(base: str) -> tuple[str, str]:
    """``/readyz``'s replica state and where public reads go; the instance must be ready."""
    status, body, _ = http("GET", base + "/readyz")
    assert status == 200, body[:500]
    replica = json.loads(body)["replica"]
    return replica["state"], replica["reads_on"]


def page(base: str, path: str) -> str:
    status, body, _ = http("GET", base + path, headers={"Accept": "text/html"})
    assert status == 200, (path, body[:500])
    return body.decode()


def same_page(body: str) -> str:
    """A page without what differs between two renderings (CSP nonces, CSRF tokens)."""
    return re.sub(r'(nonce|value|content)="[A-Za-z0-9_\-.=+/]{20,}"', r'\1=""', body)


def label_urls(primary: Cluster, key: str, count: int) -> list[str]:
    from traceability import digital_link as dl

    engine = create_engine(primary.url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.gtin, t.code, l.serial FROM trace_labels l JOIN trace_lots t ON t.id = l.lot_id "
            "JOIN trace_products p ON p.id = t.product_id WHERE t.recalled_at IS NULL "
            "ORDER BY t.id, l.id")).all()
    engine.dispose()
    # One label from each of ``count`` different lots (a lot's facts are cached per process a while).
    picked, lots = [], set()
    for gtin, lot, serial in rows:
        if lot not in lots:
            lots.add(lot)
            picked.append(("/" + dl.link_path(gtin, lot, serial) + "?s=" + dl.sign(key, gtin, lot, serial), lot))
    assert len(picked) >= count
    return picked[:count]


def test_public_pages_read_from_a_streaming_standby_and_fall_back_to_the_primary(tmp_path):
    if not using_postgres():
        pytest.skip("the replica test runs on PostgreSQL (GREENFIN_TEST_DB=postgresql)")
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) under /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: cannot start PostgreSQL as its own user")
    instance = tmp_path / "instance"
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    with primary_and_standby(bin_dir, instance) as (app, primary, standby):
        logs = Logs(primary, standby)
        env = {"DATABASE_REPLICA_URL": standby.url, "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
               "REPLICA_CHECK_SECONDS": "0.2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_TOKEN": TOKEN}
        scans = label_urls(primary, app.config["LABEL_SIGNING_KEY"], 2)
        with running_stack(primary.url, "", instance, web_workers=2, rq_workers=0, extra_env=env) as base:
            for path in PUBLIC_PAGES:  # warm: each worker's first request builds its engines
                page(base, path)

            # 1. Public pages: every query on the standby, none on the primary.
            from_standby = {}
            for path in PUBLIC_PAGES:
                with logs.between() as seen:
                    from_standby[path] = page(base, path)
                assert seen["standby"], f"{path}: no query on the standby"
                assert seen["primary"] == [], f"{path}: queries on the primary: {seen['primary']}"
            assert metric(base, "greenfin_replica_reads_total") >= 2 * len(PUBLIC_PAGES)

            # 2. A scan: recorded on the primary, the lot's facts read on the standby.
            with logs.between() as seen:
                body = page(base, scans[0][0])
            assert any("trace_record_scan" in s for s in seen["primary"])
            assert not any("trace_lots" in s for s in seen["primary"]), "\n---\n".join(seen["primary"])
            assert any("trace_lots" in s for s in seen["standby"])
            assert not any("trace_record_scan" in s for s in seen["standby"])
            assert scans[0][1] in body
            # ... and the record streams to the standby.
            count = "SELECT count(*) FROM trace_scans WHERE path IS NOT NULL OR label_id IS NOT NULL"
            written = primary.scalar(count)
            deadline = time.time() + 10
            while standby.scalar(count) != written:
                assert time.time() < deadline, "the scan did not reach the standby"
                time.sleep(0.1)

            # 3. Replay paused, the primary writes: beyond the bound, the primary answers.
            standby.scalar("SELECT pg_wal_replay_pause()", database="postgres")
            primary.scalar("CREATE TABLE replica_probe AS SELECT 1 AS x")
            time.sleep(MAX_LAG + 1)
            assert behind(primary, standby)
            lagged = metric(base, "greenfin_replica_fallbacks_total", {"reason": "lag"})
            with logs.between() as seen:
                body = page(base, "/market/catalogue")
            assert seen["primary"], "a lagging standby still answered"
            assert same_page(body) == same_page(from_standby["/market/catalogue"])
            assert metric(base, "greenfin_replica_fallbacks_total", {"reason": "lag"}) >= lagged + 1
            assert readiness(base) == ("lag", "primary")
            standby.scalar("SELECT pg_wal_replay_resume()", database="postgres")
            deadline = time.time() + 30
            while behind(primary, standby):
                assert time.time() < deadline, "the standby did not catch up"
                time.sleep(0.2)
            time.sleep(0.5)  # past the check interval
            with logs.between() as seen:
                page(base, "/market/catalogue")
            assert seen["standby"] and seen["primary"] == []  # back on the standby

            # 4. The standby stopped: the same pages from the primary, each fallback counted.
            before = sum(metric(base, "greenfin_replica_fallbacks_total", {"reason": r}) for r in ("down", "error"))
            standby.stop("fast")
            standby.running = False
            time.sleep(0.5)
            for path in PUBLIC_PAGES:
                with logs.between() as seen:
                    body = page(base, path)
                assert seen["primary"], f"{path}: nothing read on the primary"
                assert same_page(body) == same_page(from_standby[path]), path
            with logs.between() as seen:
                body = page(base, scans[1][0])
            assert scans[1][1] in body
            assert any("trace_record_scan" in s for s in seen["primary"])
            assert any("trace_lots" in s for s in seen["primary"])
            after = sum(metric(base, "greenfin_replica_fallbacks_total", {"reason": r}) for r in ("down", "error"))
            assert after >= before + len(PUBLIC_PAGES) + 1
            assert readiness(base) == ("down", "primary")  # reported; the instance stays ready
        logged = (instance / "logs" / "gunicorn.log").read_text(errors="replace")
        assert "public reads on the primary" in logged
