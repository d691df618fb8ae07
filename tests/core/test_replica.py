"""The read-replica selector (greenfin/replica.py) on SQLite: two database files, the "replica" a copy
of the primary taken before the primary changed, so each read shows which one answered.

The real streaming standby is in tests/multiprocess/test_replica.py."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, insert, select, text

from greenfin import create_app, replica as replica_module
from greenfin.config import TestConfig as AppConfig
from greenfin.core.models import Township
from greenfin.extensions import db
from greenfin.replica import BIND_KEY, Replica, lag_bound, public_read, public_reads, replica_of

pytestmark = pytest.mark.no_db_isolation  # these apps have databases of their own

ONLY_ON_PRIMARY = "only-on-primary"


def _township(code: str) -> dict:
    return dict(code=code, name_zh=code, name_en=code, kind="town", lat=Decimal("28.4"), lon=Decimal("118.2"))


def fallbacks(reason: str) -> float:
    return REGISTRY.get_sample_value("greenfin_replica_fallbacks_total", {"reason": reason}) or 0.0


def replica_reads() -> float:
    return REGISTRY.get_sample_value("greenfin_replica_reads_total") or 0.0


def make_app(tmp_path, replica_url: str | None, **config):
    settings_ = AppConfig(f"sqlite:///{tmp_path / 'primary.sqlite'}", instance=tmp_path / "instance")
    settings_.DATABASE_REPLICA_URL = replica_url
    for key, value in config.items():
        setattr(settings_, key, value)
    return create_app(settings_)


def build_two(tmp_path, replica_path):
    """An app whose replica is a copy of the primary; the primary then gets one more township."""
    app = make_app(tmp_path, f"sqlite:///{replica_path}")
    with app.app_context():
        db.create_all(bind_key=None)
        db.session.execute(insert(Township), [_township("shared")])
        db.session.commit()
        db.engine.dispose()
        shutil.copy(tmp_path / "primary.sqlite", replica_path)
        db.session.execute(insert(Township), [_township(ONLY_ON_PRIMARY)])
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture
def two_databases(tmp_path):
    app = build_two(tmp_path, tmp_path / "replica.sqlite")
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def codes() -> set[str]:
    return set(db.session.scalars(select(Township.code)))


def test_public_read_without_replica_reads_the_primary(tmp_path):
    app = make_app(tmp_path, None)
    assert BIND_KEY not in app.config.get("SQLALCHEMY_BINDS", {})
    before = (replica_reads(), fallbacks("lag"), fallbacks("down"))
    with app.app_context():
        db.create_all()
        db.session.execute(insert(Township), [_township("alone")])
        assert replica_of(app) is None
        with public_read() as on_replica:
            assert on_replica is False
            assert db.session.get_bind(clause=select(Township)) is db.engine
            assert codes() == {"alone"}
        db.session.remove()
    assert (replica_reads(), fallbacks("lag"), fallbacks("down")) == before  # nothing to count


def test_public_reads_go_to_the_replica_and_writes_to_the_primary(two_databases, tmp_path):
    app = two_databases
    with app.app_context():
        reads = replica_reads()
        with public_read() as on_replica:
            assert on_replica is True
            assert codes() == {"shared"}  # the replica's copy
            assert db.session.get(Township, ONLY_ON_PRIMARY) is None
            db.session.add(Township(**_township("written-in-public-read")))
            db.session.flush()  # a flush goes to the primary
            db.session.execute(insert(Township), [_township("core-insert")])
            locked = select(Township).with_for_update()
            assert db.session.get_bind(clause=locked) is db.engine
            assert db.session.get_bind(clause=text("SELECT 1")) is db.engine
        assert replica_reads() == reads + 1
        # Outside the context the same session reads the primary, its own writes included.
        assert codes() == {"shared", ONLY_ON_PRIMARY, "written-in-public-read", "core-insert"}
        db.session.commit()
        db.session.remove()
    replica = create_engine(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    with replica.connect() as conn:
        assert set(conn.scalars(text("SELECT code FROM townships"))) == {"shared"}
    replica.dispose()


def test_nested_public_read_keeps_the_outer_choice(two_databases):
    with two_databases.app_context():
        with public_read():
            with public_read() as inner:
                assert inner is True
                assert codes() == {"shared"}
            assert codes() == {"shared"}
        db.session.remove()


def test_a_lagging_replica_sends_reads_to_the_primary_counted_and_logged_once(two_databases, monkeypatch, caplog):
    replica = replica_of(two_databases)
    monkeypatch.setattr(replica, "measure_lag", lambda: 7.5)
    now = [100.0]
    replica.clock = lambda: now[0]
    lagged = fallbacks("lag")
    with two_databases.app_context(), caplog.at_level(logging.WARNING, logger="greenfin.replica"):
        for _ in range(3):
            with public_read() as on_replica:
                assert on_replica is False
                assert ONLY_ON_PRIMARY in codes()
            now[0] += 2  # each read after the check interval: measured again, still lagging
        db.session.remove()
    assert fallbacks("lag") == lagged + 3
    lines = [r for r in caplog.records if r.name == "greenfin.replica"]
    assert len(lines) == 1  # a change of state is logged, not every read
    assert "lag 7.5 s > 5 s" in lines[0].getMessage() and lines[0].replica_state == "lag"


def test_a_replica_within_the_bound_serves(two_databases, monkeypatch):
    replica = replica_of(two_databases)
    monkeypatch.setattr(replica, "measure_lag", lambda: 4.9)
    with two_databases.app_context():
        with public_read() as on_replica:
            assert on_replica is True
        db.session.remove()


def test_a_replica_that_is_down_sends_reads_to_the_primary(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'no-such-dir' / 'replica.sqlite'}")
    down = fallbacks("down")
    with app.app_context():
        db.create_all(bind_key=None)
        with public_read() as on_replica:
            assert on_replica is False
            assert codes() == set()
        assert replica_of(app).state().reason == "down"
        db.session.remove()
    assert fallbacks("down") == down + 1


def test_the_lag_check_is_cached_for_the_interval(two_databases, monkeypatch):
    replica = replica_of(two_databases)
    measured = []
    monkeypatch.setattr(replica, "measure_lag", lambda: measured.append(1) or 0.0)
    now = [0.0]
    replica.clock = lambda: now[0]
    with two_databases.app_context():
        for _ in range(50):
            with public_read():
                pass
            now[0] += 0.01  # 50 reads within 0.5 s
        assert len(measured) == 1
        now[0] += 1.0
        with public_read():
            pass
        assert len(measured) == 2
        db.session.remove()


def test_a_page_whose_replica_fails_is_read_again_on_the_primary(tmp_path, monkeypatch, caplog):
    """The check said the replica was fine, then connecting to it failed during the page."""
    (tmp_path / "standby").mkdir()
    app = build_two(tmp_path, tmp_path / "standby" / "replica.sqlite")
    replica = replica_of(app)
    monkeypatch.setattr(replica, "measure_lag", lambda: 0.0)
    shutil.rmtree(tmp_path / "standby")  # gone after the check: opening it fails
    calls = []

    @public_reads
    def page():
        calls.append(1)
        return sorted(codes())

    errors = fallbacks("error")
    with app.app_context(), caplog.at_level(logging.WARNING, logger="greenfin.replica"):
        assert page() == sorted(["shared", ONLY_ON_PRIMARY])
        assert len(calls) == 2  # once on the replica (failed), once on the primary
        assert replica.state().usable is False
        db.session.remove()
    assert fallbacks("error") == errors + 1
    assert any("read again on the primary" in r.getMessage() for r in caplog.records)


def test_catalogue_page_is_read_from_the_replica_then_from_the_primary(two_databases, monkeypatch):
    app = two_databases
    client = app.test_client()
    body = client.get("/market/catalogue").get_data(as_text=True)
    assert 'value="shared"' in body and ONLY_ON_PRIMARY not in body
    monkeypatch.setattr(replica_of(app), "measure_lag", lambda: 60.0)
    monkeypatch.setattr(replica_of(app), "interval", 0.0)
    body = client.get("/market/catalogue").get_data(as_text=True)
    assert f'value="{ONLY_ON_PRIMARY}"' in body


def test_every_public_disclosure_and_catalogue_page_reads_through_the_replica(app):
    """The public read-only pages named in docs/deploy.md ("Read replica") use ``@public_reads``."""
    wrapped, missing = [], []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/disclosure/", "/market/catalogue", "/credit/public")):
            view = app.view_functions[rule.endpoint]
            (wrapped if getattr(view, "public_reads", False) else missing).append(rule.rule)
    assert not missing
    assert len(wrapped) >= 12


class _Stub:
    config = {"REPLICA_MAX_LAG_SECONDS": 5, "REPLICA_CHECK_SECONDS": 1}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 30, allow_nan=False), st.floats(0, 3, allow_nan=False)), min_size=1,
                max_size=40))
def test_the_choice_follows_the_last_measured_lag(steps):
    """For any sequence of (lag on the replica, time passing): the replica serves exactly when the
    last measured lag is within the bound, and it is measured at most once per interval."""
    replica = Replica(_Stub())
    now, lags, measured = [0.0], iter([]), []

    def measure():
        value = next(lags)
        measured.append((now[0], value))
        return value

    replica.clock = lambda: now[0]
    replica.measure_lag = measure
    for lag, wait in steps:
        lags = iter([lag])
        state = replica.state()
        assert state.usable == (measured[-1][1] <= 5)
        now[0] += wait
    times = [t for t, _ in measured]
    assert all(b - a >= 1 for a, b in zip(times, times[1:]))
    assert replica.checks == len(measured)


def test_lag_bound_takes_the_tighter_of_the_positions_and_the_last_commit():
    samples = [(10.0, 100), (11.0, 200), (12.0, 300)]
    assert lag_bound(12.5, samples, 300, 60.0) == 0.5  # replayed the newest sample: idle primary, no lag
    assert lag_bound(12.5, samples, 250, 60.0) == 1.5  # has what the primary had at 11.0
    assert lag_bound(12.5, samples, 50, 3.0) == 3.0  # behind every sample: its last commit's age
    assert lag_bound(12.5, samples, 50, None) == float("inf")
    assert lag_bound(12.5, [], None, 0.2) == 0.2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5, allow_nan=False), st.integers(0, 1000)), min_size=1, max_size=30),
       st.floats(0.05, 1), st.integers(0, 30_000), st.floats(0, 10))
def test_lag_bound_never_reports_less_than_the_real_staleness(steps, sample_every, replayed, wait):
    """The primary writes ``steps`` (after a pause, so many bytes); the checks sample its position
    every ``sample_every`` seconds; the replica has replayed ``replayed`` bytes. The bound is never
    below the real staleness: the time since the primary first had more than the replica has."""
    history, at, lsn = [(0.0, 0)], 0.0, 0  # the primary's position over time (a step function)
    for pause, written in steps:
        at, lsn = at + pause, lsn + written
        history.append((at, lsn))
    now = at + wait

    def position(t: float) -> int:
        return max(p for when, p in history if when <= t)

    samples, t = [], 0.0
    while t <= now:
        samples.append((t, position(t)))
        t += sample_every
    replayed = min(replayed, lsn)
    ahead = [when for when, p in history if p > replayed]  # when the primary first got ahead
    staleness = now - min(ahead) if ahead else 0.0
    assert lag_bound(now, samples, replayed, None) >= staleness - 1e-9


def test_scan_page_records_on_the_primary_and_reads_a_lot_missing_on_the_replica_there(demo_app, tmp_path):
    """The replica (empty tables here) has not got the lot yet: the scan is judged and recorded on
    the primary, and the lot's facts are read there too, not answered "not found"."""
    from traceability import digital_link as dl

    primary_file = tmp_path / "primary.sqlite"
    shutil.copy(demo_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), primary_file)
    settings_ = AppConfig(f"sqlite:///{primary_file}", instance=Path(demo_app.config["INSTANCE_PATH"]))
    settings_.DATABASE_REPLICA_URL = f"sqlite:///{tmp_path / 'replica.sqlite'}"
    app = create_app(settings_)
    with app.app_context():
        replica_engine = db.engines[BIND_KEY]
        db.metadatas[None].create_all(replica_engine)  # the schema, no rows
        gtin, lot, serial, scans = db.session.execute(text(
            "SELECT p.gtin, t.code, l.serial, (SELECT count(*) FROM trace_scans) FROM trace_labels l "
            "JOIN trace_lots t ON t.id = l.lot_id JOIN trace_products p ON p.id = t.product_id "
            "WHERE t.recalled_at IS NULL ORDER BY l.id LIMIT 1")).one()
        db.session.remove()
    url = "/" + dl.link_path(gtin, lot, serial) + "?s=" + dl.sign(app.config["LABEL_SIGNING_KEY"], gtin, lot, serial)
    reads = replica_reads()
    response = app.test_client().get(url, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.json["lot"]["code"] == lot and response.json["verdict"] != "not_genuine"
    assert replica_reads() == reads + 1  # the lot's facts were looked for on the replica first
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM trace_scans")) == scans + 1
        with db.engines[BIND_KEY].connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM trace_scans")) == 0
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_readyz_reports_the_replica_and_stays_ready_when_it_is_down(tmp_path):
    app = build_two(tmp_path, tmp_path / "replica.sqlite")
    body = app.test_client().get("/readyz").json
    assert body["status"] == "ok" and body["replica"]["state"] == "ok" and body["replica"]["reads_on"] == "replica"
    assert body["replica"]["lag_seconds"] == 0 and body["replica"]["max_lag_seconds"] == 5
    down = make_app(tmp_path, f"sqlite:///{tmp_path / 'missing' / 'replica.sqlite'}")
    with down.app_context():
        db.create_all(bind_key=None)
    response = down.test_client().get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["database"] == "ok"
    assert response.json["replica"] == {"state": "down", "reads_on": "primary", "lag_seconds": None,
                                        "max_lag_seconds": 5}
    for one in (app, down):
        with one.app_context():
            for engine in db.engines.values():
                engine.dispose()


def test_readyz_without_a_replica_says_nothing_of_one(tmp_path):
    app = make_app(tmp_path, None)
    with app.app_context():
        db.create_all(bind_key=None)
    assert "replica" not in app.test_client().get("/readyz").json
