"""trace: trace_record_scan judges by client network over a recent window (scan_rules.judge_scan)

Revision ID: trace_0006
Revises: trace_0005
Create Date: 2026-11-30 10:00:00

The repeat-scan rule of trace_0002 could be poisoned by a stranger: 20 plain scans from one
phone made a label "suspicious" for ever. ``trace_record_scan`` now applies
``traceability.scan_rules.judge_scan``: scans are counted by client network (the /24 or /48
kept in ip_prefix), over the label's last ``p_history`` scans within ``p_recent``; the network
of the label's first scan keeps "scanned before"; more than ``p_networks`` networks in the
window, or a scan from another network within ``p_window`` more than ``p_km`` away (or in
another region), is suspicious. "Previous scans" counts at most ``p_history``. The limits are
parameters: Python holds the values. A Hypothesis test compares the function with judge_scan.
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = 'trace_0006'
down_revision = 'trace_0005'
branch_labels = None
depends_on = None

SIGNATURE = ("trace_record_scan(varchar, varchar, varchar, timestamptz, varchar, numeric, numeric, varchar, "
             "varchar, varchar, integer, interval, integer, interval, double precision)")

FUNCTION = r"""
CREATE OR REPLACE FUNCTION trace_record_scan(
    p_serial varchar, p_gtin varchar, p_lot varchar, p_at timestamptz, p_region varchar,
    p_lat numeric, p_lon numeric, p_ip_prefix varchar, p_user_agent varchar, p_path varchar,
    p_networks integer, p_recent interval, p_history integer, p_window interval, p_km double precision,
    OUT o_verdict varchar, OUT o_reason varchar, OUT o_label_id integer, OUT o_lot_id integer,
    OUT o_previous integer, OUT o_first_at timestamptz, OUT o_first_region varchar,
    OUT o_recalled_at timestamptz, OUT o_recall_reason varchar)
LANGUAGE plpgsql AS $$
DECLARE
    v_first_network varchar;
    v_networks integer;
    v_far boolean;
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
      FROM (SELECT 1 FROM trace_scans WHERE label_id = o_label_id LIMIT p_history) AS earlier;
    SELECT scanned_at, region, ip_prefix INTO o_first_at, o_first_region, v_first_network
      FROM trace_scans WHERE label_id = o_label_id ORDER BY scanned_at, id LIMIT 1;
    IF o_recalled_at IS NOT NULL THEN
        o_verdict := 'suspicious'; o_reason := 'recalled';
    ELSIF o_previous = 0 THEN
        o_verdict := 'genuine';
    ELSIF p_ip_prefix IS NOT NULL AND p_ip_prefix = v_first_network THEN
        o_verdict := 'genuine_repeat';  -- the first scanner's network: the buyer, as a rule
    ELSE
        WITH recent AS (
            SELECT scanned_at, region, lat, lon, ip_prefix FROM trace_scans
             WHERE label_id = o_label_id AND scanned_at >= p_at - p_recent
             ORDER BY scanned_at DESC, id DESC LIMIT p_history)
        SELECT (SELECT count(DISTINCT n)::integer
                  FROM (SELECT ip_prefix AS n FROM recent UNION ALL SELECT p_ip_prefix) AS ns),
               EXISTS (
                SELECT 1 FROM recent e
                 WHERE e.ip_prefix IS DISTINCT FROM p_ip_prefix
                   AND p_at - e.scanned_at <= p_window
                   AND CASE WHEN p_lat IS NOT NULL AND e.lat IS NOT NULL THEN
                            -- judge_scan's haversine, operation for operation
                            6371.0 * 2 * asin(sqrt(
                                sin((radians(e.lat::float8) - radians(p_lat::float8)) / 2)
                                * sin((radians(e.lat::float8) - radians(p_lat::float8)) / 2)
                                + cos(radians(p_lat::float8)) * cos(radians(e.lat::float8))
                                * (sin(radians(e.lon::float8 - p_lon::float8) / 2)
                                   * sin(radians(e.lon::float8 - p_lon::float8) / 2)))) > p_km
                        ELSE coalesce(p_region, '') <> '' AND coalesce(e.region, '') <> ''
                             AND e.region <> p_region
                       END)
          INTO v_networks, v_far;
        IF v_networks > p_networks THEN
            o_verdict := 'suspicious'; o_reason := 'too_many';
        ELSIF v_far THEN
            o_verdict := 'suspicious'; o_reason := 'far_apart';
        ELSE
            o_verdict := 'genuine_repeat';
        END IF;
    END IF;
    INSERT INTO trace_scans (label_id, lot_id, scanned_at, verdict, reason, region, lat, lon, ip_prefix, user_agent)
    VALUES (o_label_id, o_lot_id, p_at, o_verdict, o_reason, p_region, p_lat, p_lon, p_ip_prefix, p_user_agent);
END $$;
"""


def _trace_0002():
    path = Path(__file__).with_name("trace_0002_scan_function.py")
    spec = importlib.util.spec_from_file_location("trace_0002_scan_function", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_trace_0002().SIGNATURE}")
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
        op.execute(_trace_0002().FUNCTION)
