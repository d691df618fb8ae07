"""PostgreSQL: trace_record_scan (migration trace_0002) judges and records a scan as the
session path does in Python (judge_scan), on generated scan histories."""
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text

from greenfin.core.types import utcnow
from greenfin.extensions import db
from tests.conftest import using_postgres
from traceability import services
from traceability.models import Label, Lot, Scan

pytestmark = pytest.mark.skipif(not using_postgres(), reason="trace_record_scan is PostgreSQL's")

REGIONS = st.sampled_from([None, "", "上饶", "CN-SH", "CN-BJ"])
# Within about 400 km of Guangfeng, so pairs fall on both sides of SPREAD_KM (300 km).
LAT = st.decimals(min_value=Decimal("26.5"), max_value=Decimal("30.5"), places=6)
LON = st.decimals(min_value=Decimal("116"), max_value=Decimal("120.5"), places=6)
PLACE = st.one_of(st.tuples(st.none(), st.none()), st.tuples(LAT, LON))
# Seconds from now: around every hour of the last twelve, so around SPREAD_WINDOW (6 h) too.
SECONDS = st.builds(lambda hours, jitter: -hours * 3600 + jitter, st.integers(0, 12), st.integers(-90, 90))
SCAN = st.tuples(SECONDS, REGIONS, PLACE)  # when, region, (lat, lon)


def call(serial, lot, values):
    params = services.pg_scan_params(serial, lot.product.gtin, lot.code, values)
    sql = text(services._PG_SCAN.replace("%(", ":").replace(")s", ""))
    return services.Seen(*db.session.execute(sql, params).one())


@pytest.fixture
def labelled_lot(create_lot, issue_labels):
    lot = create_lot()
    issue_labels(lot, 1)
    return lot, db.session.scalar(select(Label).where(Label.lot_id == lot.id))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(earlier=st.lists(SCAN, max_size=services.SCAN_LIMIT + 3), now=SCAN, recalled=st.booleans())
@example(earlier=[(-6 * 3600, "上饶", (None, None))], now=(0, "CN-SH", (None, None)), recalled=False)  # on the edge
@example(earlier=[(-6 * 3600 - 1, "上饶", (None, None))], now=(0, "CN-SH", (None, None)), recalled=False)  # outside
@example(earlier=[(-60, None, (Decimal("28.4"), Decimal("118.2")))],  # 300.3 km and 299.3 km apart
         now=(0, None, (Decimal("28.4"), Decimal("121.27"))), recalled=False)
@example(earlier=[(-60, None, (Decimal("28.4"), Decimal("118.2")))],
         now=(0, None, (Decimal("28.4"), Decimal("121.26"))), recalled=False)
def test_the_function_judges_as_judge_scan(labelled_lot, earlier, now, recalled):
    """Each example in a savepoint rolled back afterwards: the same label, a new history."""
    lot, label = labelled_lot
    at = utcnow()
    with db.session.begin_nested() as savepoint:
        db.session.execute(text("UPDATE trace_lots SET recalled_at = :at WHERE id = :id"),
                           {"at": at if recalled else None, "id": lot.id})
        if earlier:
            db.session.execute(insert(Scan), [
                {"label_id": label.id, "lot_id": lot.id, "scanned_at": at + timedelta(seconds=s), "verdict": "genuine",
                 "region": region, "lat": lat, "lon": lon} for s, region, (lat, lon) in earlier])
        prior = db.session.execute(
            select(Scan.scanned_at, Scan.region, Scan.lat, Scan.lon).where(Scan.label_id == label.id)
            .order_by(Scan.scanned_at, Scan.id).limit(services.SCAN_LIMIT)).all()
        _s, region, (lat, lon) = now
        values = {"scanned_at": at, "region": region, "lat": lat, "lon": lon, "ip_prefix": "203.0.113.0/24",
                  "user_agent": "test", "path": "/01/x"}
        seen = call(label.serial, lot, values)
        assert (seen.verdict, seen.reason) == services.judge_scan(prior, at, region, lat, lon, recalled)
        assert seen.previous_scans == len(prior) and (seen.label_id, seen.lot_id) == (label.id, lot.id)
        assert (seen.first_scan_at, seen.first_scan_region) == ((prior[0].scanned_at, prior[0].region) if prior
                                                                else (None, None))
        stored = db.session.execute(select(Scan).order_by(Scan.id.desc()).limit(1)).scalar_one()
        assert (stored.label_id, stored.verdict, stored.reason, stored.region, stored.path) == (
            label.id, seen.verdict, seen.reason, region, None)
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
        assert call(serial, target, values) == services.Seen("not_genuine", previous_scans=0)
    rows = db.session.execute(select(Scan.verdict, Scan.reason, Scan.label_id, Scan.path)).all()
    assert rows == [("not_genuine", "unknown", None, "/01/guess")] * 3
    assert db.session.scalar(select(func.count()).select_from(Scan).where(Scan.label_id.is_not(None))) == 0
