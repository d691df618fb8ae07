"""trace: a scan in one statement on PostgreSQL (trace_record_scan)

Revision ID: trace_0002
Revises: trace_0001
Create Date: 2026-11-29 16:20:00

``trace_record_scan`` does in one call what traceability.services._SessionScans does in
Python: find the label of a signed code (serial, GTIN and lot must all match), take the
scans of that label one at a time (a transaction-scoped advisory lock on the label), judge
the scan against the label's earlier scans exactly as ``judge_scan`` does (recalled lot;
SCAN_LIMIT scans or more; an earlier scan within SPREAD_WINDOW more than SPREAD_KM away by
the haversine formula on both coordinates, or else in another named region), record it, and
return the verdict with what the scan page shows. An unknown or unsigned code (serial NULL)
is recorded as not genuine with its path. The limits are parameters: Python holds the values.
The transaction is the statement's own, with synchronous_commit off (a scan is analytics).
A test compares its verdicts with ``judge_scan`` on generated scan histories.
"""
from alembic import op

revision = 'trace_0002'
down_revision = 'trace_0001'
branch_labels = None
depends_on = None

SIGNATURE = ("trace_record_scan(varchar, varchar, varchar, timestamptz, varchar, numeric, numeric, varchar, "
             "varchar, varchar, integer, interval, double precision)")

FUNCTION = r"""
CREATE OR REPLACE FUNCTION trace_record_scan(
    p_serial varchar, p_gtin varchar, p_lot varchar, p_at timestamptz, p_region varchar,
    p_lat numeric, p_lon numeric, p_ip_prefix varchar, p_user_agent varchar, p_path varchar,
    p_limit integer, p_window interval, p_km double precision,
    OUT o_verdict varchar, OUT o_reason varchar, OUT o_label_id integer, OUT o_lot_id integer,
    OUT o_previous integer, OUT o_first_at timestamptz, OUT o_first_region varchar,
    OUT o_recalled_at timestamptz, OUT o_recall_reason varchar)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    IF p_serial IS NOT NULL THEN
        SELECT lb.id, lb.lot_id, lt.recalled_at, lt.recall_reason
          INTO o_label_id, o_lot_id, o_recalled_at, o_recall_reason
          FROM trace_labels lb
          JOIN trace_lots lt ON lt.id = lb.lot_id
          JOIN trace_products pr ON pr.id = lt.product_id
         WHERE lb.serial = p_serial AND pr.gtin = p_gtin AND lt.code = p_lot;
    END IF;
    IF o_label_id IS NULL THEN
        o_verdict := 'not_genuine';
        o_previous := 0;
        INSERT INTO trace_scans (scanned_at, verdict, reason, region, lat, lon, ip_prefix, user_agent, path)
        VALUES (p_at, o_verdict, 'unknown', p_region, p_lat, p_lon, p_ip_prefix, p_user_agent, p_path);
        RETURN;
    END IF;
    -- One scan of a label at a time: of two simultaneous first scans, one is the first.
    PERFORM pg_advisory_xact_lock(7021, o_label_id);
    SELECT count(*)::integer INTO o_previous
      FROM (SELECT 1 FROM trace_scans WHERE label_id = o_label_id LIMIT p_limit) AS earlier;
    SELECT scanned_at, region INTO o_first_at, o_first_region
      FROM trace_scans WHERE label_id = o_label_id ORDER BY scanned_at, id LIMIT 1;
    IF o_recalled_at IS NOT NULL THEN
        o_verdict := 'suspicious'; o_reason := 'recalled';
    ELSIF o_previous >= p_limit THEN
        o_verdict := 'suspicious'; o_reason := 'too_many';
    ELSIF EXISTS (
        SELECT 1
          FROM (SELECT scanned_at, region, lat, lon FROM trace_scans WHERE label_id = o_label_id
                ORDER BY scanned_at, id LIMIT p_limit) AS e
         WHERE p_at - e.scanned_at <= p_window
           AND CASE WHEN p_lat IS NOT NULL AND e.lat IS NOT NULL THEN
                    -- judge_scan's haversine, operation for operation
                    6371.0 * 2 * asin(sqrt(
                        sin((radians(e.lat::float8) - radians(p_lat::float8)) / 2)
                        * sin((radians(e.lat::float8) - radians(p_lat::float8)) / 2)
                        + cos(radians(p_lat::float8)) * cos(radians(e.lat::float8))
                        * (sin(radians(e.lon::float8 - p_lon::float8) / 2)
                           * sin(radians(e.lon::float8 - p_lon::float8) / 2)))) > p_km
                ELSE coalesce(p_region, '') <> '' AND coalesce(e.region, '') <> '' AND e.region <> p_region
               END) THEN
        o_verdict := 'suspicious'; o_reason := 'far_apart';
    ELSIF o_previous = 0 THEN
        o_verdict := 'genuine';
    ELSE
        o_verdict := 'genuine_repeat';
    END IF;
    INSERT INTO trace_scans (label_id, lot_id, scanned_at, verdict, reason, region, lat, lon, ip_prefix, user_agent)
    VALUES (o_label_id, o_lot_id, p_at, o_verdict, o_reason, p_region, p_lat, p_lon, p_ip_prefix, p_user_agent);
END $$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
