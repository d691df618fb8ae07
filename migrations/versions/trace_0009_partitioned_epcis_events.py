"""trace: EPCIS events partitioned by month of event_time on PostgreSQL

Revision ID: trace_0009_events
Revises: trace_0009
Create Date: 2026-12-07 05:00:00

trace_epcis_events becomes ``PARTITION BY RANGE (event_time)``, one partition per UTC month
(``trace_epcis_events_pYYYYMM``), like trace_scans (trace_0009); the rows are copied into the months
they belong to. A partitioned table's unique keys must hold the partition key: the primary key is
(id, event_time) there, and the event hash is unique with its event time, which is no weaker since the
CBV 2.0 event hash is computed over the event time (the same hash, the same time). Both dialects
declare that unique (event_hash, event_time).

trace_event_lots.event_id keeps the event's id without a foreign key (a foreign key to a partitioned
table must name the whole key, event_time included): events are written only by
``traceability.services.events.store_event``, which adds the event and its lots together, and events are
never deleted (as trace_scans' label ids, trace_0003).

Events arrive with any past event time (an import of last season's records), so the month of each
event is made by ``store_event`` through ``greenfin_ensure_month_partition`` where missing; the
migration makes the months of the existing events and the months ahead. SQLite keeps plain tables.
"""
import sqlalchemy as sa
from alembic import op

revision = 'trace_0009_events'
down_revision = 'trace_0009'
branch_labels = None
depends_on = None

AHEAD = 3
COLUMNS = ("id, event_hash, event_type, kind, event_time, biz_step, disposition, party_id, document, source, "
           "ship_from_id, ship_to_id, reference_document, quantity, created_at")


def _create(partitioned: bool) -> None:
    key = "id, event_time" if partitioned else "id"
    unique = "event_hash, event_time" if partitioned else "event_hash"
    unique_name = "uq_trace_epcis_events_event_hash_event_time" if partitioned else "uq_trace_epcis_events_event_hash"
    op.execute(f"""
        CREATE TABLE trace_epcis_events (
            id integer NOT NULL DEFAULT nextval('trace_epcis_events_id_seq'::regclass),
            event_hash varchar(100) NOT NULL, event_type varchar(32) NOT NULL, kind varchar(16) NOT NULL,
            event_time timestamptz NOT NULL, biz_step varchar(128), disposition varchar(128),
            party_id integer, document jsonb NOT NULL, source varchar(16) NOT NULL,
            ship_from_id integer, ship_to_id integer, reference_document varchar(255),
            quantity numeric(18, 3), created_at timestamptz NOT NULL,
            CONSTRAINT pk_trace_epcis_events PRIMARY KEY ({key}),
            CONSTRAINT {unique_name} UNIQUE ({unique}),
            CONSTRAINT fk_trace_epcis_events_party_id_parties FOREIGN KEY (party_id) REFERENCES parties (id),
            CONSTRAINT fk_trace_epcis_events_ship_from_id_parties FOREIGN KEY (ship_from_id) REFERENCES parties (id),
            CONSTRAINT fk_trace_epcis_events_ship_to_id_parties FOREIGN KEY (ship_to_id) REFERENCES parties (id)
        ){' PARTITION BY RANGE (event_time)' if partitioned else ''}""")
    op.execute("ALTER SEQUENCE trace_epcis_events_id_seq OWNED BY trace_epcis_events.id")
    for column in ("event_time", "kind", "party_id"):
        op.execute(f"CREATE INDEX ix_trace_epcis_events_{column} ON trace_epcis_events ({column})")


def _set_aside(name: str) -> None:
    """Rename the table, its constraints and indexes out of the way of their new namesakes."""
    op.execute(f"ALTER TABLE trace_epcis_events RENAME TO {name}")
    for constraint in op.get_bind().execute(sa.text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'f')"),
            {"t": name}).scalars().all():
        op.execute(f"ALTER TABLE {name} RENAME CONSTRAINT {constraint} TO {constraint}_{name[-5:]}")
    for column in ("event_time", "kind", "party_id"):
        op.execute(f"ALTER INDEX ix_trace_epcis_events_{column} RENAME TO ix_{name}_{column}")


def upgrade():
    with op.batch_alter_table('trace_event_lots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_trace_event_lots_event_id_trace_epcis_events'), type_='foreignkey')
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table('trace_epcis_events', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('uq_trace_epcis_events_event_hash'), type_='unique')
            batch_op.create_unique_constraint(op.f('uq_trace_epcis_events_event_hash_event_time'),
                                              ['event_hash', 'event_time'])
        return
    _set_aside("trace_epcis_events_plain")
    _create(partitioned=True)
    op.execute("SELECT greenfin_ensure_month_partition('trace_epcis_events', m::date) FROM ("
               "SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC') AS m FROM trace_epcis_events_plain "
               f"UNION SELECT generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'), "
               f"date_trunc('month', now() AT TIME ZONE 'UTC') + interval '{AHEAD} months', interval '1 month')"
               ") AS months")
    op.execute(f"INSERT INTO trace_epcis_events ({COLUMNS}) SELECT {COLUMNS} FROM trace_epcis_events_plain")
    op.execute("DROP TABLE trace_epcis_events_plain")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _set_aside("trace_epcis_events_parts")
        _create(partitioned=False)
        op.execute(f"INSERT INTO trace_epcis_events ({COLUMNS}) SELECT {COLUMNS} FROM trace_epcis_events_parts")
        op.execute("DROP TABLE trace_epcis_events_parts")
    else:
        with op.batch_alter_table('trace_epcis_events', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('uq_trace_epcis_events_event_hash_event_time'), type_='unique')
            batch_op.create_unique_constraint(op.f('uq_trace_epcis_events_event_hash'), ['event_hash'])
    with op.batch_alter_table('trace_event_lots', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_trace_event_lots_event_id_trace_epcis_events'), 'trace_epcis_events',
                                    ['event_id'], ['id'], ondelete='CASCADE')
