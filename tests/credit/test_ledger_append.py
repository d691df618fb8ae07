"""The append path: what is stored is what the hash covers, on SQLite (Python) and PostgreSQL (the function)."""
import json

import pytest
from flask import g
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from credit import services
from credit.ledger import canonical_body, canonical_posting, chain_hash
from credit.models import CreditAccount, CreditPosting
from greenfin.core.models import AuditEvent
from greenfin.errors import NotFound
from greenfin.extensions import db
from tests.conftest import using_postgres

EVIDENCE = {"inspector": "王巡查", "documents": ["饶广环监〔2026〕17号", "照片-002"], "note": "含\"引号\"与\\斜杠"}


def test_append_stores_every_field_of_the_hashed_body(create_party, create_user):
    party, officer = create_party(kind="firm"), create_user("regulator")
    g.user = officer  # as in a request: the posting's author and the audit event's actor
    result = services.submit_posting(party.id, "FIRM_DISCLOSURE", idempotency_key="body-1", evidence=EVIDENCE,
                                     source="api", source_id="ext-42")
    sent = {k: getattr(result.posting, k) for k in ("id", "party_id", "rule_code", "effective_date", "recorded_at",
                                                    "evidence", "entered_by_id", "entered_by", "source", "source_id",
                                                    "idempotency_key", "request_hash", "hash", "prev_hash")}
    body = canonical_body(result.posting)
    db.session.flush()
    db.session.expunge_all()

    stored = db.session.get(CreditPosting, sent["id"])
    assert {k: getattr(stored, k) for k in sent} == sent
    assert canonical_body(stored) == body
    assert chain_hash(stored.prev_hash, canonical_posting(stored)) == stored.hash
    assert (stored.account_id, stored.seq, stored.points, stored.approved_by_id, stored.reverses_id) == (
        db.session.scalar(select(CreditAccount.id).where(CreditAccount.party_id == party.id)), 1, 3, None, None)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit.posting.create",
                                                       AuditEvent.entity_id == str(stored.id)))
    assert (audit.actor_id, audit.actor_label, audit.party_id) == (officer.id, officer.username, party.id)
    assert audit.after["hash"] == stored.hash and audit.after["points"] == 3
    assert services.verify_ledger().ok


def test_result_posting_is_the_session_instance(create_party):
    party = create_party(kind="firm")
    first = services.submit_posting(party.id, "FIRM_DISCLOSURE", idempotency_key="inst-1", review=False)
    db.session.commit()
    assert first.posting is db.session.get(CreditPosting, first.posting.id)
    assert first.posting.rule.code == "FIRM_DISCLOSURE" and first.posting.party.id == party.id

    second = services.submit_posting(party.id, "FIRM_DISCLOSURE", idempotency_key="inst-2", review=False)
    loaded = db.session.scalar(select(CreditPosting).where(CreditPosting.idempotency_key == "inst-2"))
    assert second.posting is loaded and second.record is loaded
    assert (loaded.seq, loaded.prev_hash) == (2, first.posting.hash)
    account = db.session.scalar(select(CreditAccount).where(CreditAccount.party_id == party.id))
    assert (account.posting_count, account.balance, account.last_hash) == (2, 6, loaded.hash)


@pytest.mark.skipif(not using_postgres(), reason="the append function exists on PostgreSQL only")
def test_append_function_takes_new_postings_only(create_party):
    party = create_party(kind="firm")
    body = json.loads(canonical_body(services.submit_posting(
        party.id, "FIRM_DISCLOSURE", idempotency_key="fn-1", review=False).posting))
    body.update(idempotency_key="fn-2", reverses_id=1, reason="a reversal must take the Python path")
    with pytest.raises(DBAPIError, match="new postings only"):
        with db.session.begin_nested():
            db.session.execute(text("SELECT * FROM credit_append_posting(:body, NULL, NULL)"),
                               {"body": json.dumps(body, sort_keys=True, separators=(",", ":"))})
    assert db.session.scalar(select(CreditPosting.id).where(CreditPosting.idempotency_key == "fn-2")) is None
    assert services.verify_ledger().ok


def test_submit_posting_takes_integer_party_ids_only(create_party):
    party = create_party(kind="firm")
    for wrong in (str(party.id), float(party.id), True):
        with pytest.raises(NotFound):
            services.submit_posting(wrong, "FIRM_DISCLOSURE", idempotency_key=f"type-{wrong!r}", review=False)
    assert db.session.scalar(select(CreditPosting.id).where(CreditPosting.party_id == party.id)) is None
