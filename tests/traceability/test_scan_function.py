"""PostgreSQL: trace_record_scan (migration trace_0006) judges and records a scan as the
session path does in Python (scan_rules.judge_scan), on generated scan histories."""
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text

from greenfin.core.types import utcnow
from greenfin.extensions import db
from tests.conftest import using_postgres
from traceability import scan_rules, services
from traceability.models import Label, Lot, Scan
from traceability.services import scan_store

pytestmark = pytest.mark.skipif(not using_postgres(), reason="trace_record_scan is PostgreSQL's")

REGIONS = st.sampled_from([None, "江西", "上海", "北京"])
# Within about 400 km of Guangfeng, so pairs fall on both sides of SPREAD_KM (300 km).
LAT = st.decimals(min_value=Decimal("26.5"), max_value=Decimal("30.5"), places=6)
LON = st.decimals(min_value=Decimal("116"), max_value=Decimal("120.5"), places=6)
PLACE = st.one_of(st.tuples(st.none(), st.none()), st.tuples(LAT, LON))
# Seconds from now: around every hour of the last twelve (so around SPREAD_WINDOW, 6 h), and
# around RECENT_WINDOW (30 days).
SECONDS = st.one_of(
    st.builds(lambda hours, jitter: -hours * 3600 + jitter, st.integers(0, 12), st.integers(-90, 90)),
    st.builds(lambda jitter: -int(scan_rules.RECENT_WINDOW.total_seconds()) + jitter, st.integers(-90, 90)))
NETWORKS = st.sampled_from([None, "203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "10.1.2.0/24",
                            "2001:db8:1::/48"])
SCAN = st.tuples(SECONDS, REGIONS, PLACE, NETWORKS)  # when, region, (lat, lon), network
# Small limits, so that generated histories reach them (the function takes them as parameters).
NETWORK_LIMIT, HISTORY_LIMIT = 3, 8


def call(serial, lot, values):
    params = scan_store.pg_scan_params(serial, lot.product.gtin, lot.code, values)
    sql = text(scan_store.PG_SCAN.replace("%(", ":").replace(")s", ""))
    return scan_store.Seen(*db.session.execute(sql, params).one())


@pytest.fixture
def labelled_lot(create_lot, issue_labels):
    lot = create_lot()
    issue_labels(lot, 1)
    return lot, db.session.scalar(select(Label).where(Label.lot_id == lot.id))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(earlier=st.lists(SCAN, max_size=HISTORY_LIMIT + 4), now=SCAN, recalled=st.booleans())
@example(earlier=[(-60, None, (None, None), "192.0.2.0/24"), (-6 * 3600, "江西", (None, None), "10.1.2.0/24")],
         now=(0, "上海", (None, None), None), recalled=False)  # on the edge of SPREAD_WINDOW
@example(earlier=[(-60, None, (None, None), "192.0.2.0/24"), (-6 * 3600 - 1, "江西", (None, None), "10.1.2.0/24")],
         now=(0, "上海", (None, None), None), recalled=False)  # outside
@example(earlier=[(-60, None, (None, None), "192.0.2.0/24"),  # 300.3 km and 299.3 km apart
                  (-60, None, (Decimal("28.4"), Decimal("118.2")), "10.1.2.0/24")],
         now=(0, None, (Decimal("28.4"), Decimal("121.27")), "203.0.113.0/24"), recalled=False)
@example(earlier=[(-60, None, (None, None), "192.0.2.0/24"),
                  (-60, None, (Decimal("28.4"), Decimal("118.2")), "10.1.2.0/24")],
         now=(0, None, (Decimal("28.4"), Decimal("121.26")), "203.0.113.0/24"), recalled=False)
@example(earlier=[(-30 * 86400, None, (None, None), n) for n in ("192.0.2.0/24", "10.1.2.0/24", "2001:db8:1::/48")],
         now=(0, None, (None, None), "203.0.113.0/24"), recalled=False)  # on the edge of RECENT_WINDOW
def test_the_function_judges_as_judge_scan(labelled_lot, monkeypatch, earlier, now, recalled):
    """Each example in a savepoint rolled back afterwards: the same label, a new history."""
    monkeypatch.setattr(scan_rules, "NETWORK_LIMIT", NETWORK_LIMIT)
    monkeypatch.setattr(scan_rules, "HISTORY_LIMIT", HISTORY_LIMIT)
    lot, label = labelled_lot
    at = utcnow()
    with db.session.begin_nested() as savepoint:
        db.session.execute(text("UPDATE trace_lots SET recalled_at = :at WHERE id = :id"),
                           {"at": at if recalled else None, "id": lot.id})
        if earlier:
            db.session.execute(insert(Scan), [
                {"label_id": label.id, "lot_id": lot.id, "scanned_at": at + timedelta(seconds=s), "verdict": "genuine",
                 "region": region, "lat": lat, "lon": lon, "ip_prefix": network}
                for s, region, (lat, lon), network in earlier])
        columns = (Scan.scanned_at, Scan.region, Scan.lat, Scan.lon, Scan.ip_prefix)
        first = db.session.execute(select(*columns).where(Scan.label_id == label.id)
                                   .order_by(Scan.scanned_at, Scan.id).limit(1)).first()
        recent = db.session.execute(
            select(*columns).where(Scan.label_id == label.id, Scan.scanned_at >= at - scan_rules.RECENT_WINDOW)
            .order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(HISTORY_LIMIT)).all()
        _s, region, (lat, lon), network = now
        values = {"scanned_at": at, "region": region, "lat": lat, "lon": lon, "ip_prefix": network,
                  "user_agent": "test", "path": "/01/x"}
        seen = call(label.serial, lot, values)
        assert (seen.verdict, seen.reason) == scan_rules.judge_scan(first, recent, at, network, region, lat, lon,
                                                                    recalled)
        assert seen.previous_scans == min(len(earlier), HISTORY_LIMIT)
        assert (seen.label_id, seen.lot_id) == (label.id, lot.id)
        assert (seen.first_scan_at, seen.first_scan_region) == ((first.scanned_at, first.region) if first
                                                                else (None, None))
        stored = db.session.execute(select(Scan).order_by(Scan.id.desc()).limit(1)).scalar_one()
        assert (stored.label_id, stored.verdict, stored.reason, stored.region, stored.path, stored.ip_prefix) == (
            label.id, seen.verdict, seen.reason, region, None, network)
        savepoint.rollback()
    db.session.expire_all()


def test_unknown_and_unsigned_codes_are_recorded_as_not_genuine_with_their_path(create_lot, issue_labels):
    lot = create_lot()
    issue_labels(lot, 1)
    label = db.session.scalar(select(Label).where(Label.lot_id == lot.id))
    values = {"scanned_at": utcnow(), "region": "CN-SH", "lat": None, "lon": None, "ip_prefix": None,
              "user_agent": None, "path": "/01/guess"}
    other_lot = db.session.get(Lot, create_lot().id)
    for serial, target in [(None, lot), ("NOSUCHSERIAL", lot), (label.serial, other_lot)]:
        assert call(serial, target, values) == scan_store.Seen("not_genuine", previous_scans=0)
    rows = db.session.execute(select(Scan.verdict, Scan.reason, Scan.label_id, Scan.path)).all()
    assert rows == [("not_genuine", "unknown", None, "/01/guess")] * 3
    assert db.session.scalar(select(func.count()).select_from(Scan).where(Scan.label_id.is_not(None))) == 0
