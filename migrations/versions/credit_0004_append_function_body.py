"""credit: the append function reads every stored field from the hashed body

Revision ID: credit_0004
Revises: credit_0003
Create Date: 2026-11-29 14:00:00

Replaces credit_0003's function. ``credit_append_posting(body, review_above, request_id)``
takes the canonical JSON body that Python hashes (credit.ledger.canonical_body) and
stores the posting's columns from that same text, so what is stored is what the
hash covers by construction, and the driver binds three parameters instead of
fourteen (about 0.1 ms less client CPU per posting). Rule lookup,
review decision, account lock, idempotency and party-kind checks, the chain hash
(``prev_hash || E'\\n' || account_id|seq|rule_id|points|expires_on|body``), the
cached balance and the audit event are unchanged. Reversals and approvals, which
carry an approver, a reversed posting or a reason, keep the Python path (the function
refuses such a body). It now returns one row through OUT parameters (no set to materialise).
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = 'credit_0004'
down_revision = 'credit_0003'
branch_labels = None
depends_on = None

OLD_SIGNATURE = ("credit_append_posting(integer, text, text, text, date, integer, timestamptz, jsonb, integer, text, "
                 "text, text, text, text)")
NEW_SIGNATURE = "credit_append_posting(text, integer, text)"

FUNCTION = r"""
CREATE OR REPLACE FUNCTION credit_append_posting(
    p_body text, p_review_above integer, p_request_id text,
    OUT o_status text, OUT o_kind text, OUT o_posting_id integer, OUT o_account_id integer, OUT o_seq integer,
    OUT o_prev_hash text, OUT o_hash text, OUT o_rule_id integer, OUT o_points integer, OUT o_expires date)
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := p_body::jsonb;
    v_party_id integer := (b->>'party_id')::integer;
    v_code text := b->>'rule_code';
    v_effective date := (b->>'effective_date')::date;
    v_recorded timestamptz := (b->>'recorded_at')::timestamptz;
    v_key text := b->>'idempotency_key';
    v_entered_by_id integer := (b->>'entered_by_id')::integer;
    v_months integer;
    v_kinds jsonb;
    v_count integer;
BEGIN
    IF b->>'approved_by_id' IS NOT NULL OR b->>'reverses_id' IS NOT NULL OR b->>'reason' IS NOT NULL THEN
        RAISE EXCEPTION 'credit_append_posting appends new postings only: approvals and reversals use the Python path';
    END IF;
    SELECT r.id, r.points, r.display_months, r.party_kinds INTO o_rule_id, o_points, v_months, v_kinds
      FROM credit_rules r
     WHERE r.code = v_code AND r.effective_from <= v_effective
       AND (r.effective_to IS NULL OR r.effective_to > v_effective)
     ORDER BY r.version DESC LIMIT 1;
    IF NOT FOUND THEN
        o_status := 'no_rule';
        RETURN;
    END IF;
    IF p_review_above IS NOT NULL AND (o_points < 0 OR o_points > p_review_above) THEN
        o_status := 'review';
        RETURN;
    END IF;
    SELECT a.id, a.posting_count, a.last_hash, p.kind INTO o_account_id, v_count, o_prev_hash, o_kind
      FROM credit_accounts a JOIN parties p ON p.id = a.party_id
     WHERE a.party_id = v_party_id FOR UPDATE OF a;
    IF NOT FOUND THEN
        SELECT kind INTO o_kind FROM parties WHERE id = v_party_id;
        IF NOT FOUND THEN
            o_status := 'no_party';
            RETURN;
        END IF;
        INSERT INTO credit_accounts (party_id, balance, posting_count, last_hash, updated_at)
             VALUES (v_party_id, 0, 0, repeat('0', 64), v_recorded)
        ON CONFLICT (party_id) DO NOTHING;
        SELECT a.id, a.posting_count, a.last_hash INTO o_account_id, v_count, o_prev_hash
          FROM credit_accounts a WHERE a.party_id = v_party_id FOR UPDATE;
    END IF;
    IF EXISTS (SELECT 1 FROM credit_postings WHERE idempotency_key = v_key)
       OR EXISTS (SELECT 1 FROM credit_pending_postings WHERE idempotency_key = v_key) THEN
        o_status := 'seen';
        RETURN;
    END IF;
    IF NOT (v_kinds ? o_kind) THEN
        o_status := 'kind';
        RETURN;
    END IF;
    o_seq := v_count + 1;
    o_expires := (v_effective + make_interval(months => v_months))::date;
    o_hash := encode(sha256(convert_to(
        o_prev_hash || E'\n' || o_account_id || '|' || o_seq || '|' || o_rule_id || '|' || o_points || '|'
        || to_char(o_expires, 'YYYY-MM-DD') || '|' || p_body, 'UTF8')), 'hex');
    INSERT INTO credit_postings (account_id, seq, party_id, rule_id, rule_code, points, effective_date, expires_on,
                                 recorded_at, evidence, entered_by_id, entered_by, approved_by_id, source, source_id,
                                 idempotency_key, request_hash, reverses_id, reason, prev_hash, hash)
         VALUES (o_account_id, o_seq, v_party_id, o_rule_id, v_code, o_points, v_effective, o_expires,
                 v_recorded, b->'evidence', v_entered_by_id, b->>'entered_by', NULL, b->>'source', b->>'source_id',
                 v_key, b->>'request_hash', NULL, NULL, o_prev_hash, o_hash)
      RETURNING id INTO o_posting_id;
    UPDATE credit_accounts
       SET balance = balance + o_points, posting_count = o_seq, last_hash = o_hash, updated_at = v_recorded
     WHERE id = o_account_id;
    INSERT INTO audit_events (occurred_at, actor_id, actor_label, action, entity_type, entity_id, party_id,
                              before, after, request_id)
         VALUES (v_recorded, v_entered_by_id, b->>'entered_by', 'credit.posting.create', 'credit_posting',
                 o_posting_id::text, v_party_id, NULL,
                 jsonb_build_object('rule_code', v_code, 'points', o_points, 'effective_date', v_effective,
                                    'source', b->>'source', 'source_id', b->>'source_id', 'reverses_id', NULL,
                                    'hash', o_hash),
                 p_request_id);
    o_status := 'ok';
END $$;
"""


def _previous_function() -> str:
    path = Path(__file__).with_name("credit_0003_append_function_rule.py")
    spec = importlib.util.spec_from_file_location("credit_0003_append_function_rule", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FUNCTION


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {OLD_SIGNATURE}")
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {NEW_SIGNATURE}")
        op.execute(_previous_function())
