"""carbon: a transfer or retirement of units in one PostgreSQL function call

Revision ID: carbon_0004
Revises: carbon_0001
Create Date: 2026-12-07 14:10:00

``carbon_move_units(block_id, quantity, op, to_account_id, holder_id, body, actor_id, actor_label,
party_id, request_id)`` does what ``greenfin.carbon.ledger.move`` does for a transfer or a
retirement, in one round trip instead of about eight statements: lock the project row (the chain
head), lock the block, refuse a block that moved away from ``holder_id``, units that are not
available or fewer than asked, then append the entry, advance the head, move the whole block or
split it, and write the audit event. ``body`` is the canonical JSON that Python hashes
(``ledger.body_json``: price, amount, counterparty, note, recorded_at, actor, idempotency key...),
and the entry's columns are stored from that same text, so what is stored is what the hash covers.
The hash is ``sha256(prev_hash || E'\\n' || project|seq|op|vintage|start|end|quantity|block|from|to|state|body)``,
exactly ``ledger.canonical_entry``. The append-only and block-follows-ledger triggers of carbon_0001
still check every row. Refusals come back as a status (nothing written); Python raises the same
errors as its own path. Pledges, releases, enforcements and issues keep the Python path; SQLite
has no function and keeps the Python path for everything.
"""
from alembic import op

revision = 'carbon_0004'
down_revision = 'carbon_0001'
branch_labels = None
depends_on = None

SIGNATURE = "carbon_move_units(integer, integer, text, integer, integer, text, integer, text, integer, text)"

FUNCTION = r"""
CREATE OR REPLACE FUNCTION carbon_move_units(
    p_block_id integer, p_quantity integer, p_op text, p_to_account_id integer, p_holder_id integer,
    p_body text, p_actor_id integer, p_actor_label text, p_party_id integer, p_request_id text,
    OUT o_status text, OUT o_entry_id integer, OUT o_project_id integer, OUT o_code text, OUT o_vintage integer,
    OUT o_block_start integer, OUT o_block_end integer, OUT o_block_account_id integer, OUT o_block_state text,
    OUT o_seq integer, OUT o_serial_end integer, OUT o_new_block_id integer, OUT o_prev_hash text,
    OUT o_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := p_body::jsonb;
    blk carbon_blocks%ROWTYPE;
    v_count integer;
    v_to_state text;
    v_serial text;
BEGIN
    IF p_op NOT IN ('transfer', 'retire') THEN
        RAISE EXCEPTION 'carbon_move_units transfers or retires units: % uses the Python path', p_op;
    END IF;
    SELECT project_id INTO o_project_id FROM carbon_blocks WHERE id = p_block_id;
    IF NOT FOUND THEN
        o_status := 'no_block';
        RETURN;
    END IF;
    SELECT code, entry_count, last_hash INTO o_code, v_count, o_prev_hash
      FROM carbon_projects WHERE id = o_project_id FOR UPDATE;
    SELECT * INTO blk FROM carbon_blocks WHERE id = p_block_id FOR UPDATE;
    o_vintage := blk.vintage;
    o_block_start := blk.serial_start;
    o_block_end := blk.serial_end;
    o_block_account_id := blk.account_id;
    o_block_state := blk.state;
    IF p_holder_id IS NOT NULL AND blk.account_id <> p_holder_id THEN
        o_status := 'moved';
        RETURN;
    END IF;
    IF blk.state <> 'available' THEN
        o_status := 'state';
        RETURN;
    END IF;
    IF p_quantity > blk.serial_end - blk.serial_start + 1 THEN
        o_status := 'quantity';
        RETURN;
    END IF;
    v_to_state := CASE p_op WHEN 'retire' THEN 'retired' ELSE 'available' END;
    o_seq := v_count + 1;
    o_serial_end := blk.serial_start + p_quantity - 1;
    o_hash := encode(sha256(convert_to(
        o_prev_hash || E'\n' || o_project_id || '|' || o_seq || '|' || p_op || '|' || blk.vintage || '|'
        || blk.serial_start || '|' || o_serial_end || '|' || p_quantity || '|' || blk.id || '|' || blk.account_id
        || '|' || p_to_account_id || '|' || v_to_state || '|' || p_body, 'UTF8')), 'hex');
    INSERT INTO carbon_entries (project_id, seq, op, vintage, serial_start, serial_end, quantity, source_block_id,
                                from_account_id, to_account_id, to_state, report_id, unit_price, amount, counterparty,
                                application_id, loan_id, reference_price, price_source, price_date, haircut,
                                beneficiary, beneficiary_party_id, purpose, note, recorded_at, actor, idempotency_key,
                                request_hash, prev_hash, hash)
         VALUES (o_project_id, o_seq, p_op, blk.vintage, blk.serial_start, o_serial_end, p_quantity, blk.id,
                 blk.account_id, p_to_account_id, v_to_state, (b->>'report_id')::integer, (b->>'unit_price')::numeric,
                 (b->>'amount')::numeric, b->>'counterparty', (b->>'application_id')::integer,
                 (b->>'loan_id')::integer, (b->>'reference_price')::numeric, b->>'price_source',
                 (b->>'price_date')::date, (b->>'haircut')::numeric, b->>'beneficiary',
                 (b->>'beneficiary_party_id')::integer, b->>'purpose', b->>'note',
                 (b->>'recorded_at')::timestamptz, b->>'actor', b->>'idempotency_key', b->>'request_hash',
                 o_prev_hash, o_hash)
      RETURNING id INTO o_entry_id;
    UPDATE carbon_projects SET entry_count = o_seq, last_hash = o_hash WHERE id = o_project_id;
    IF o_serial_end = blk.serial_end THEN
        UPDATE carbon_blocks SET account_id = p_to_account_id, state = v_to_state, application_id = NULL,
                                 entry_id = o_entry_id
         WHERE id = blk.id;
    ELSE
        UPDATE carbon_blocks SET serial_start = o_serial_end + 1, entry_id = o_entry_id WHERE id = blk.id;
        INSERT INTO carbon_blocks (project_id, vintage, serial_start, serial_end, account_id, state, application_id,
                                   entry_id)
             VALUES (o_project_id, blk.vintage, blk.serial_start, o_serial_end, p_to_account_id, v_to_state, NULL,
                     o_entry_id)
          RETURNING id INTO o_new_block_id;
    END IF;
    -- ledger.serial(): GF-<code>-<vintage>-<start>[-<end>], numbers zero-padded to eight digits
    v_serial := 'GF-' || o_code || '-' || blk.vintage || '-'
        || lpad(blk.serial_start::text, greatest(8, length(blk.serial_start::text)), '0')
        || CASE WHEN o_serial_end = blk.serial_start THEN ''
                ELSE '-' || lpad(o_serial_end::text, greatest(8, length(o_serial_end::text)), '0') END;
    INSERT INTO audit_events (occurred_at, actor_id, actor_label, action, entity_type, entity_id, party_id,
                              before, after, request_id)
         VALUES ((b->>'recorded_at')::timestamptz, p_actor_id, p_actor_label, 'carbon.units.' || p_op, 'carbon_entry',
                 o_entry_id::text, p_party_id,
                 jsonb_build_object('block_id', blk.id, 'state', blk.state, 'account_id', blk.account_id),
                 jsonb_build_object('serials', v_serial, 'quantity', p_quantity, 'state', v_to_state,
                                    'account_id', p_to_account_id, 'hash', o_hash),
                 p_request_id);
    o_status := 'ok';
END $$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
