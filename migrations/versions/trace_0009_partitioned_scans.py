"""trace: scan records partitioned by month on PostgreSQL (PARTITION BY RANGE (scanned_at))

Revision ID: trace_0009
Revises: trace_0006
Create Date: 2026-12-07 04:50:00

trace_scans grows by every scan of every label. On PostgreSQL it becomes a partitioned table,
one partition per UTC calendar month named ``trace_scans_pYYYYMM``; the rows of the plain table
are copied over (its id sequence is kept, so ids go on where they were) and the plain table is
dropped; months go from the oldest scan (or BEHIND months ago, if older) to AHEAD months from
now. A partitioned table's primary key must contain the partition key: it is (id, scanned_at);
ids still come from one sequence, so id alone stays unique and the model keeps ``id`` as its key.
The two indexes (label, time) and (lot, time) are declared on the parent, so every partition has them.

``greenfin_ensure_month_partition(parent, month)`` creates the partition of one month of a
partitioned table of this schema if it is missing. It is SECURITY DEFINER: the application role
owns no table and may create nothing, yet the scheduled job ``partitions-ensure``
(greenfin.core.partitions.ensure_partitions) keeps the months ahead; it can do nothing else.
Partitions are reached only through the parent, whose privileges apply (no grant per partition).
No DEFAULT partition: a scan must find its month (ensure keeps months ahead), and a default
partition would forbid ``DETACH PARTITION ... CONCURRENTLY``.

SQLite keeps the plain table.
"""
from alembic import op

revision = 'trace_0009'
down_revision = 'trace_0008_network_blocks'
branch_labels = None
depends_on = None

ENSURE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION greenfin_ensure_month_partition(p_parent varchar, p_month date)
RETURNS varchar LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v_schema name := current_schema();
    v_start date := date_trunc('month', p_month)::date;
    v_name varchar := p_parent || '_p' || to_char(date_trunc('month', p_month), 'YYYYMM');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = v_schema AND c.relname = p_parent AND pt.partstrat = 'r') THEN
        RAISE EXCEPTION 'no range-partitioned table % in schema %', p_parent, v_schema;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = v_schema AND c.relname = v_name) THEN
        RETURN NULL;  -- the usual case, without a lock
    END IF;
    -- Two callers at once: the second waits, then finds the partition.
    PERFORM pg_advisory_xact_lock(7022, hashtext(v_name));
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = v_schema AND c.relname = v_name) THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                   v_schema, v_name, v_schema, p_parent,
                   v_start::timestamp AT TIME ZONE 'UTC',
                   (v_start + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    RETURN v_name;
END $$
"""

AHEAD = 3  # months created ahead by the migration; the scheduled job keeps the same margin
# Months created behind, even when the table is empty: scans are recorded at the time of the scan,
# but demo data, imports and tests write past scans (a month without a partition refuses its rows).
BEHIND = 24


def _months(first: str) -> str:
    """SQL: every month from ``first`` (a SQL date expression) to AHEAD months after today."""
    return (f"SELECT greenfin_ensure_month_partition('trace_scans', m::date) FROM generate_series("
            f"date_trunc('month', {first}), date_trunc('month', now() AT TIME ZONE 'UTC') + interval '{AHEAD} months', "
            "interval '1 month') AS m")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ENSURE_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION greenfin_ensure_month_partition(varchar, date) FROM PUBLIC")
    op.execute("ALTER TABLE trace_scans RENAME TO trace_scans_plain")
    op.execute("ALTER TABLE trace_scans_plain RENAME CONSTRAINT pk_trace_scans TO pk_trace_scans_plain")
    op.execute("ALTER INDEX ix_trace_scans_label_time RENAME TO ix_trace_scans_plain_label_time")
    op.execute("ALTER INDEX ix_trace_scans_lot_time RENAME TO ix_trace_scans_plain_lot_time")
    op.execute("""
        CREATE TABLE trace_scans (
            id integer NOT NULL DEFAULT nextval('trace_scans_id_seq'::regclass),
            label_id integer, lot_id integer,
            scanned_at timestamptz NOT NULL,
            verdict varchar(16) NOT NULL, reason varchar(32), region varchar(64),
            lat numeric(9, 6), lon numeric(9, 6), ip_prefix varchar(48), user_agent varchar(128),
            path varchar(160),
            CONSTRAINT pk_trace_scans PRIMARY KEY (id, scanned_at)
        ) PARTITION BY RANGE (scanned_at)""")
    op.execute("ALTER SEQUENCE trace_scans_id_seq OWNED BY trace_scans.id")
    op.execute("CREATE INDEX ix_trace_scans_label_time ON trace_scans (label_id, scanned_at)")
    op.execute("CREATE INDEX ix_trace_scans_lot_time ON trace_scans (lot_id, scanned_at)")
    behind = f"(now() - interval '{BEHIND} months')"
    op.execute(_months(f"least((SELECT min(scanned_at) FROM trace_scans_plain), {behind}) AT TIME ZONE 'UTC'"))
    op.execute("INSERT INTO trace_scans SELECT id, label_id, lot_id, scanned_at, verdict, reason, region, lat, lon, "
               "ip_prefix, user_agent, path FROM trace_scans_plain")
    op.execute("DROP TABLE trace_scans_plain")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE trace_scans RENAME TO trace_scans_partitioned")
    op.execute("ALTER TABLE trace_scans_partitioned RENAME CONSTRAINT pk_trace_scans TO pk_trace_scans_partitioned")
    op.execute("ALTER INDEX ix_trace_scans_label_time RENAME TO ix_trace_scans_partitioned_label_time")
    op.execute("ALTER INDEX ix_trace_scans_lot_time RENAME TO ix_trace_scans_partitioned_lot_time")
    op.execute("""
        CREATE TABLE trace_scans (
            id integer NOT NULL DEFAULT nextval('trace_scans_id_seq'::regclass),
            label_id integer, lot_id integer,
            scanned_at timestamptz NOT NULL,
            verdict varchar(16) NOT NULL, reason varchar(32), region varchar(64),
            lat numeric(9, 6), lon numeric(9, 6), ip_prefix varchar(48), user_agent varchar(128),
            path varchar(160),
            CONSTRAINT pk_trace_scans PRIMARY KEY (id))""")
    op.execute("ALTER SEQUENCE trace_scans_id_seq OWNED BY trace_scans.id")
    op.execute("CREATE INDEX ix_trace_scans_label_time ON trace_scans (label_id, scanned_at)")
    op.execute("CREATE INDEX ix_trace_scans_lot_time ON trace_scans (lot_id, scanned_at)")
    op.execute("INSERT INTO trace_scans SELECT id, label_id, lot_id, scanned_at, verdict, reason, region, lat, lon, "
               "ip_prefix, user_agent, path FROM trace_scans_partitioned")
    op.execute("DROP TABLE trace_scans_partitioned")
    op.execute("DROP FUNCTION IF EXISTS greenfin_ensure_month_partition(varchar, date)")
