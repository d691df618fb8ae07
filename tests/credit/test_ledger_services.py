"""The points ledger through its services: idempotency, review, reversals, balances, chains."""
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from credit import services
from credit.models import CreditPendingPosting, CreditPosting
from greenfin.dates import today as business_today, utc_today
from greenfin.core.models import AuditEvent
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from greenfin.extensions import db


def test_submit_posting_posts_positive_points_and_chains(create_party):
    party = create_party(kind="individual")
    first = services.submit_posting(party.id, "GREEN_TREE_PLANTING", idempotency_key="k1").posting
    second = services.submit_posting(party.id, "GREEN_RIVER_PATROL", idempotency_key="k2").posting
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    assert services.balance(party.id) == 6 == services.replayed_balance(party.id)
    assert services.verify_ledger().ok
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "credit.posting.create")) == 2


def test_submit_posting_same_key_same_content_returns_original(create_party):
    party = create_party(kind="individual")
    one = services.submit_posting(party.id, "GREEN_TREE_PLANTING", idempotency_key="same")
    two = services.submit_posting(party.id, "GREEN_TREE_PLANTING", idempotency_key="same")
    assert two.replayed and two.posting.id == one.posting.id
    assert db.session.scalar(select(func.count(CreditPosting.id))) == 1


def test_submit_posting_same_key_other_content_conflicts(create_party):
    party = create_party(kind="individual")
    services.submit_posting(party.id, "GREEN_TREE_PLANTING", idempotency_key="same")
    with pytest.raises(Conflict) as err:
        services.submit_posting(party.id, "GREEN_RIVER_PATROL", idempotency_key="same")
    assert err.value.code == "idempotency_conflict"


def test_submit_posting_refuses_rule_of_other_kind_and_future_date(create_party):
    firm = create_party(kind="firm")
    with pytest.raises(ValidationFailed) as err:
        services.submit_posting(firm.id, "GREEN_WASTE_SORTING", idempotency_key="x")
    assert "does not apply" in err.value.errors["rule_code"][0]
    with pytest.raises(ValidationFailed) as err:
        services.submit_posting(firm.id, "FIRM_DISCLOSURE", idempotency_key="y",
                                effective_date=business_today() + timedelta(days=2))
    assert "effective_date" in err.value.errors


def test_negative_posting_waits_for_regulator(create_party, create_user):
    party = create_party(kind="individual")
    clerk, regulator = create_user("admin"), create_user("regulator")
    result = services.submit_posting(party.id, "VIOL_STRAW_BURNING", idempotency_key="burn", actor=clerk,
                                     evidence={"inspector": "王巡查", "documents": ["照片-001"]})
    assert result.status == "pending" and services.balance(party.id) == 0
    with pytest.raises(Forbidden):
        services.approve_pending(result.pending.id, actor=clerk)
    posting = services.approve_pending(result.pending.id, actor=regulator)
    assert posting.points == -10 and posting.approved_by_id == regulator.id
    assert posting.evidence["inspector"] == "王巡查"
    assert services.balance(party.id) == -10
    again = services.submit_posting(party.id, "VIOL_STRAW_BURNING", idempotency_key="burn", actor=clerk,
                                    evidence={"inspector": "王巡查", "documents": ["照片-001"]})
    assert again.replayed and again.posting.id == posting.id


def test_pending_expires_and_cannot_be_approved(create_party, create_user):
    party = create_party(kind="individual")
    pending = services.submit_posting(party.id, "VIOL_STRAW_BURNING", idempotency_key="old").pending
    later = utcnow() + timedelta(days=15)
    with pytest.raises(Conflict):
        services.approve_pending(pending.id, actor=create_user("regulator"), now=later)
    assert services.expire_pending(now=later) == 1
    assert db.session.get(CreditPendingPosting, pending.id).status == "expired"


def test_reject_pending_closes_it(create_party, create_user):
    party = create_party(kind="individual")
    pending = services.submit_posting(party.id, "VIOL_STRAW_BURNING", idempotency_key="r").pending
    services.reject_pending(pending.id, note="照片不清", actor=create_user("regulator"))
    assert pending.status == "rejected" and services.balance(party.id) == 0


def test_reverse_posting_points_at_original_and_refuses_twice(create_party, create_user, post):
    party = create_party(kind="individual")
    original = post(party, "GREEN_TREE_PLANTING")
    regulator = create_user("regulator")
    reversal = services.reverse_posting(original.id, reason="重复录入", idempotency_key="rev1", actor=regulator).posting
    assert reversal.reverses_id == original.id and reversal.points == -3 and reversal.approved_by_id == regulator.id
    assert services.balance(party.id) == 0
    with pytest.raises(Conflict):
        services.reverse_posting(original.id, reason="again", idempotency_key="rev2", actor=regulator)
    with pytest.raises(Conflict):
        services.reverse_posting(reversal.id, reason="undo", idempotency_key="rev3", actor=regulator)
    assert services.verify_ledger().ok


def test_reverse_posting_by_non_regulator_waits(create_party, create_user, post):
    party = create_party(kind="individual")
    original = post(party, "GREEN_TREE_PLANTING")
    result = services.reverse_posting(original.id, reason="录错人", idempotency_key="rv", actor=create_user("admin"))
    assert result.status == "pending"
    posting = services.approve_pending(result.pending.id, actor=create_user("regulator"))
    assert posting.reverses_id == original.id and services.balance(party.id) == 0


def test_post_event_points_is_idempotent_per_source(create_party):
    party = create_party()
    one = services.post_event_points(party.id, "PENALTY_NOTICE", source="traceability", source_id="cert-9")
    two = services.post_event_points(party.id, "PENALTY_NOTICE", source="traceability", source_id="cert-9")
    other = services.post_event_points(party.id, "TRACE_CERT_GRANTED", source="traceability", source_id="cert-9")
    assert one.id == two.id != other.id
    assert services.balance(party.id) == -15 + 10


def test_event_rules_are_in_the_catalogue():
    for code in services.EVENT_RULES:
        assert services.get_rule(code).code == code


def test_post_event_points_unknown_rule(create_party):
    with pytest.raises(ValidationFailed):
        services.post_event_points(create_party().id, "NOPE", source="x", source_id="1")


def test_balance_as_of_and_score_follow_display_period(create_party, post):
    party = create_party(kind="individual")
    day = business_today() - timedelta(days=200)
    post(party, "VIOL_STRAW_BURNING", effective_date=day)  # -10, shown 6 months
    post(party, "GREEN_TREE_PLANTING")  # +3 today
    assert services.balance(party.id, as_of=day - timedelta(days=1)) == 0
    assert services.balance(party.id, as_of=day) == -10
    assert services.balance(party.id) == -7
    assert services.score(party.id, on=day + timedelta(days=10)) == -10
    assert services.score(party.id) == 3  # the burning left its display period


def test_revise_rule_adds_version_and_keeps_history(create_party, post):
    today = business_today()
    rule = services.revise_rule("GREEN_TREE_PLANTING", {"points": 5, "effective_from": today})
    assert rule.version == 2
    versions = services.rule_versions("GREEN_TREE_PLANTING")
    assert versions[0].effective_to == today
    party = create_party(kind="individual")
    old = post(party, "GREEN_TREE_PLANTING", effective_date=today - timedelta(days=3))
    new = post(party, "GREEN_TREE_PLANTING")
    assert (old.points, new.points) == (3, 5)
    with pytest.raises(ValidationFailed):
        services.revise_rule("GREEN_TREE_PLANTING", {"points": 0, "effective_from": today + timedelta(days=1)})
    with pytest.raises(NotFound):
        services.revise_rule("NOPE", {"points": 1})


def test_checkpoint_covers_closed_days_and_verify_checks_it(create_party, post):
    party = create_party(kind="individual")
    post(party, "GREEN_TREE_PLANTING")
    assert services.checkpoint_ledger() == []  # today is not closed yet
    assert services.verify_ledger().ok


def test_a_checkpoint_never_covers_the_utc_day_still_open_after_guangfeng_midnight(create_party, post, monkeypatch):
    from greenfin import dates

    post(create_party(kind="individual"), "GREEN_TREE_PLANTING")
    evening = datetime.combine(utc_today(), time(16, 30), timezone.utc)  # 00:30 tomorrow in Guangfeng
    monkeypatch.setattr(dates, "utcnow", lambda: evening)
    assert dates.today() == utc_today() + timedelta(days=1)
    assert services.checkpoint_ledger() == []  # the UTC day is still open: later postings belong to it


def test_checkpoint_then_added_posting_breaks_that_day(create_party, post, monkeypatch):
    from credit import integrity

    party = create_party(kind="individual")
    post(party, "GREEN_TREE_PLANTING")
    post(party, "GREEN_RIVER_PATROL")
    tomorrow = utc_today() + timedelta(days=1)
    monkeypatch.setattr(integrity, "utc_today", lambda: tomorrow)  # today has closed
    made = services.checkpoint_ledger()
    assert made and made[-1].day == utc_today() and made[-1].posting_count >= 2
    assert services.checkpoint_ledger() == []  # nothing new to checkpoint
    assert services.verify_ledger().ok
    post(party, "GREEN_WASTE_SORTING")  # recorded on a day already checkpointed
    report = services.verify_ledger()
    assert not report.ok and any("checkpoint" in p for p in report.problems)


def test_submit_posting_unknown_party_is_not_found():
    with pytest.raises(NotFound):
        services.submit_posting(999999, "FIRM_DISCLOSURE", idempotency_key="nobody", review=False)
    assert db.session.scalar(select(func.count(CreditPosting.id))) == 0


def test_retry_replays_even_after_rule_is_revised(create_party):
    party = create_party(kind="individual")
    first = services.submit_posting(party.id, "GREEN_TREE_PLANTING", idempotency_key="before-revision").posting
    services.revise_rule("GREEN_TREE_PLANTING", {"points": 5, "effective_from": business_today()})
    again = services.submit_posting(party.id, "GREEN_TREE_PLANTING", idempotency_key="before-revision")
    assert again.replayed and again.posting.id == first.id and again.posting.points == 3
