"""credit: the append function also looks up the rule and decides review

Revision ID: credit_0003
Revises: credit_0002
Create Date: 2026-11-29 11:55:00

Replaces credit_0002's function. ``credit_append_posting`` now finds the rule version
in force on the effective date, answers ``review`` when a manual posting's points need
a regulator, and hashes ``prev_hash || E'\\n' || account_id|seq|rule_id|points|expires_on|body``
(credit.ledger.canonical_posting), so the common posting is one round trip.
"""
from alembic import op

revision = 'credit_0003'
down_revision = 'credit_0002'
branch_labels = None
depends_on = None

OLD_SIGNATURE = ("credit_append_posting(integer, text[], text, text, integer, text, integer, date, date, timestamptz, "
                 "jsonb, integer, text, text, text, text, text, text, jsonb)")
NEW_SIGNATURE = ("credit_append_posting(integer, text, text, text, date, integer, timestamptz, jsonb, integer, text, "
                 "text, text, text, text)")

FUNCTION = r"""
CREATE OR REPLACE FUNCTION credit_append_posting(
    p_party_id integer, p_key text, p_body text, p_rule_code text, p_effective date, p_review_above integer,
    p_recorded timestamptz, p_evidence jsonb, p_entered_by_id integer, p_entered_by text, p_source text,
    p_source_id text, p_request_hash text, p_request_id text)
RETURNS TABLE (o_status text, o_kind text, o_posting_id integer, o_account_id integer, o_seq integer,
               o_prev_hash text, o_hash text, o_rule_id integer, o_points integer, o_expires date)
LANGUAGE plpgsql AS $$
DECLARE
    v_rule_id integer;
    v_points integer;
    v_months integer;
    v_kinds jsonb;
    v_expires date;
    v_account_id integer;
    v_count integer;
    v_last text;
    v_kind text;
    v_hash text;
    v_posting_id integer;
BEGIN
    SELECT r.id, r.points, r.display_months, r.party_kinds INTO v_rule_id, v_points, v_months, v_kinds
      FROM credit_rules r
     WHERE r.code = p_rule_code AND r.effective_from <= p_effective
       AND (r.effective_to IS NULL OR r.effective_to > p_effective)
     ORDER BY r.version DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'no_rule'::text, NULL::text, NULL::integer, NULL::integer, NULL::integer, NULL::text,
                            NULL::text, NULL::integer, NULL::integer, NULL::date;
        RETURN;
    END IF;
    IF p_review_above IS NOT NULL AND (v_points < 0 OR v_points > p_review_above) THEN
        RETURN QUERY SELECT 'review'::text, NULL::text, NULL::integer, NULL::integer, NULL::integer, NULL::text,
                            NULL::text, v_rule_id, v_points, NULL::date;
        RETURN;
    END IF;
    SELECT a.id, a.posting_count, a.last_hash, p.kind INTO v_account_id, v_count, v_last, v_kind
      FROM credit_accounts a JOIN parties p ON p.id = a.party_id
     WHERE a.party_id = p_party_id FOR UPDATE OF a;
    IF NOT FOUND THEN
        SELECT kind INTO v_kind FROM parties WHERE id = p_party_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'no_party'::text, NULL::text, NULL::integer, NULL::integer, NULL::integer,
                                NULL::text, NULL::text, NULL::integer, NULL::integer, NULL::date;
            RETURN;
        END IF;
        INSERT INTO credit_accounts (party_id, balance, posting_count, last_hash, updated_at)
             VALUES (p_party_id, 0, 0, repeat('0', 64), p_recorded)
        ON CONFLICT (party_id) DO NOTHING;
        SELECT a.id, a.posting_count, a.last_hash INTO v_account_id, v_count, v_last
          FROM credit_accounts a WHERE a.party_id = p_party_id FOR UPDATE;
    END IF;
    IF EXISTS (SELECT 1 FROM credit_postings WHERE idempotency_key = p_key)
       OR EXISTS (SELECT 1 FROM credit_pending_postings WHERE idempotency_key = p_key) THEN
        RETURN QUERY SELECT 'seen'::text, v_kind, NULL::integer, v_account_id, NULL::integer, NULL::text,
                            NULL::text, NULL::integer, NULL::integer, NULL::date;
        RETURN;
    END IF;
    IF NOT (v_kinds ? v_kind) THEN
        RETURN QUERY SELECT 'kind'::text, v_kind, NULL::integer, v_account_id, NULL::integer, NULL::text,
                            NULL::text, NULL::integer, NULL::integer, NULL::date;
        RETURN;
    END IF;
    v_expires := (p_effective + make_interval(months => v_months))::date;
    v_hash := encode(sha256(convert_to(
        v_last || E'\n' || v_account_id || '|' || (v_count + 1) || '|' || v_rule_id || '|' || v_points || '|'
        || to_char(v_expires, 'YYYY-MM-DD') || '|' || p_body, 'UTF8')), 'hex');
    INSERT INTO credit_postings (account_id, seq, party_id, rule_id, rule_code, points, effective_date, expires_on,
                                 recorded_at, evidence, entered_by_id, entered_by, approved_by_id, source, source_id,
                                 idempotency_key, request_hash, reverses_id, reason, prev_hash, hash)
         VALUES (v_account_id, v_count + 1, p_party_id, v_rule_id, p_rule_code, v_points, p_effective, v_expires,
                 p_recorded, p_evidence, p_entered_by_id, p_entered_by, NULL, p_source, p_source_id,
                 p_key, p_request_hash, NULL, NULL, v_last, v_hash)
      RETURNING id INTO v_posting_id;
    UPDATE credit_accounts
       SET balance = balance + v_points, posting_count = v_count + 1, last_hash = v_hash, updated_at = p_recorded
     WHERE id = v_account_id;
    INSERT INTO audit_events (occurred_at, actor_id, actor_label, action, entity_type, entity_id, party_id,
                              before, after, request_id)
         VALUES (p_recorded, p_entered_by_id, p_entered_by, 'credit.posting.create', 'credit_posting',
                 v_posting_id::text, p_party_id, NULL,
                 jsonb_build_object('rule_code', p_rule_code, 'points', v_points, 'effective_date', p_effective,
                                    'source', p_source, 'source_id', p_source_id, 'reverses_id', NULL,
                                    'hash', v_hash),
                 p_request_id);
    RETURN QUERY SELECT 'ok'::text, v_kind, v_posting_id, v_account_id, v_count + 1, v_last, v_hash,
                        v_rule_id, v_points, v_expires;
END $$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {OLD_SIGNATURE}")
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {NEW_SIGNATURE}")
