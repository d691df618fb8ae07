"""credit: one-round-trip posting append on PostgreSQL

Revision ID: credit_0002
Revises: credit_0001
Create Date: 2026-11-29 11:45:00

``credit_append_posting`` locks the party's account (creating it on first use),
refuses a used idempotency key, checks the rule applies to the party's kind,
appends the posting to the account's hash chain
(hash = sha256(prev_hash || E'\\n' || account_id || '|' || seq || '|' || body)),
updates the cached balance and writes the audit event, all in one call. The
body (canonical JSON of the other fields) comes from credit.ledger.canonical_body,
so Python's verify recomputes exactly the same hashes. SQLite uses the Python path.
"""
from alembic import op

revision = 'credit_0002'
down_revision = 'credit_0001'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION credit_append_posting(
    p_party_id integer, p_kinds text[], p_key text, p_body text, p_rule_id integer, p_rule_code text,
    p_points integer, p_effective date, p_expires date, p_recorded timestamptz, p_evidence jsonb,
    p_entered_by_id integer, p_entered_by text, p_source text, p_source_id text, p_request_hash text,
    p_actor_label text, p_request_id text, p_audit_after jsonb)
RETURNS TABLE (o_status text, o_kind text, o_posting_id integer, o_account_id integer, o_seq integer,
               o_prev_hash text, o_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    v_account_id integer;
    v_count integer;
    v_last text;
    v_kind text;
    v_hash text;
    v_posting_id integer;
BEGIN
    SELECT a.id, a.posting_count, a.last_hash, p.kind INTO v_account_id, v_count, v_last, v_kind
      FROM credit_accounts a JOIN parties p ON p.id = a.party_id
     WHERE a.party_id = p_party_id FOR UPDATE OF a;
    IF NOT FOUND THEN
        SELECT kind INTO v_kind FROM parties WHERE id = p_party_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'no_party'::text, NULL::text, NULL::integer, NULL::integer, NULL::integer,
                                NULL::text, NULL::text;
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
        RETURN QUERY SELECT 'seen'::text, v_kind, NULL::integer, v_account_id, NULL::integer, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF NOT (v_kind = ANY (p_kinds)) THEN
        RETURN QUERY SELECT 'kind'::text, v_kind, NULL::integer, v_account_id, NULL::integer, NULL::text, NULL::text;
        RETURN;
    END IF;
    v_hash := encode(sha256(convert_to(v_last || E'\n' || v_account_id || '|' || (v_count + 1) || '|' || p_body,
                                       'UTF8')), 'hex');
    INSERT INTO credit_postings (account_id, seq, party_id, rule_id, rule_code, points, effective_date, expires_on,
                                 recorded_at, evidence, entered_by_id, entered_by, approved_by_id, source, source_id,
                                 idempotency_key, request_hash, reverses_id, reason, prev_hash, hash)
         VALUES (v_account_id, v_count + 1, p_party_id, p_rule_id, p_rule_code, p_points, p_effective, p_expires,
                 p_recorded, p_evidence, p_entered_by_id, p_entered_by, NULL, p_source, p_source_id,
                 p_key, p_request_hash, NULL, NULL, v_last, v_hash)
      RETURNING id INTO v_posting_id;
    UPDATE credit_accounts
       SET balance = balance + p_points, posting_count = v_count + 1, last_hash = v_hash, updated_at = p_recorded
     WHERE id = v_account_id;
    INSERT INTO audit_events (occurred_at, actor_id, actor_label, action, entity_type, entity_id, party_id,
                              before, after, request_id)
         VALUES (p_recorded, p_entered_by_id, p_actor_label, 'credit.posting.create', 'credit_posting',
                 v_posting_id::text, p_party_id, NULL, p_audit_after || jsonb_build_object('hash', v_hash),
                 p_request_id);
    RETURN QUERY SELECT 'ok'::text, v_kind, v_posting_id, v_account_id, v_count + 1, v_last, v_hash;
END $$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS credit_append_posting(integer, text[], text, text, integer, text, integer, "
                   "date, date, timestamptz, jsonb, integer, text, text, text, text, text, text, jsonb)")
