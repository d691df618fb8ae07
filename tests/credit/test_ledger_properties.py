"""A Hypothesis state machine against a simple model of the ledger.

Invariants: each party's balance equals the model's sum and a replay of its postings;
retried requests never duplicate; a reversed posting cannot be reversed again and a
reversal cannot be reversed; every chain verifies. And the canonical JSON every hash covers
is byte for byte the standard library's.
"""
import hashlib
import json
import secrets
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from credit import services
from credit.ledger import _canonical, body_json, request_hash
from credit.models import CreditPosting
from greenfin.core import services as core
from greenfin.errors import Conflict
from greenfin.extensions import db
from tests.conftest import make_resident_id

RULES = {"GREEN_TREE_PLANTING": 3, "GREEN_RIVER_PATROL": 3, "GREEN_WASTE_SORTING": 2,
         "VIOL_STRAW_BURNING": -10, "VIOL_PESTICIDE_MISUSE": -15, "GREEN_CERTIFIED_FARMING": 12}


class LedgerMachine(RuleBasedStateMachine):
    postings = Bundle("postings")

    def __init__(self):
        super().__init__()
        self.tag = secrets.token_hex(4)
        self.regulator = core.create_user({"username": f"reg-{self.tag}", "role": "regulator",
                                           "password": "correct-horse-battery"})
        self.parties = [core.create_party({"kind": "individual", "name": f"甲{self.tag}{i}",
                                           "resident_id": make_resident_id(), "township_code": "danan"})
                        for i in range(3)]
        self.model: dict[int, int] = {p.id: 0 for p in self.parties}
        self.requests: dict[str, tuple[int, str, int]] = {}  # key -> (party, rule, posting id)
        self.reversed: set[int] = set()
        self.reversals: set[int] = set()

    @rule(target=postings, party=st.integers(0, 2), rule_code=st.sampled_from(sorted(RULES)))
    def post(self, party, rule_code):
        key = f"{self.tag}:{len(self.requests)}"
        party_id = self.parties[party].id
        posting = services.submit_posting(party_id, rule_code, idempotency_key=key, review=False).posting
        assert posting.points == RULES[rule_code]
        self.model[party_id] += posting.points
        self.requests[key] = (party_id, rule_code, posting.id)
        return posting.id

    @rule(data=st.data())
    def retry(self, data):
        if not self.requests:
            return
        key = data.draw(st.sampled_from(sorted(self.requests)))
        party_id, rule_code, posting_id = self.requests[key]
        before = db.session.scalar(select(func.count(CreditPosting.id)))
        result = services.submit_posting(party_id, rule_code, idempotency_key=key, review=False)
        assert result.replayed and result.posting.id == posting_id
        assert db.session.scalar(select(func.count(CreditPosting.id))) == before

    @rule(data=st.data())
    def retry_with_other_content(self, data):
        if not self.requests:
            return
        key = data.draw(st.sampled_from(sorted(self.requests)))
        party_id, rule_code, _posting_id = self.requests[key]
        other = next(code for code in sorted(RULES) if code != rule_code)
        with pytest.raises(Conflict):
            services.submit_posting(party_id, other, idempotency_key=key, review=False)

    @rule(posting_id=postings)
    def reverse(self, posting_id):
        key = f"{self.tag}:rev:{posting_id}:{len(self.reversed)}"
        if posting_id in self.reversed or posting_id in self.reversals:
            with pytest.raises(Conflict):
                services.reverse_posting(posting_id, reason="更正", idempotency_key=key, actor=self.regulator)
            return
        reversal = services.reverse_posting(posting_id, reason="更正", idempotency_key=key,
                                            actor=self.regulator).posting
        original = services.get_posting(posting_id)
        assert reversal.reverses_id == posting_id and reversal.points == -original.points
        self.model[original.party_id] += reversal.points
        self.reversed.add(posting_id)
        self.reversals.add(reversal.id)

    @rule()
    def commit(self):
        db.session.commit()

    @invariant()
    def balances_match_model_and_replay(self):
        for party in self.parties:
            assert services.balance(party.id) == self.model[party.id] == services.replayed_balance(party.id)

    def teardown(self):
        report = services.verify_ledger()
        assert report.ok, report.problems[:3]


def test_ledger_state_machine(app):
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=15, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


# ---------------------------------------------------------------- canonical JSON

def standard_canonical(value: dict) -> str:
    """The definition the stored chains were hashed with (and ``credit_append_posting`` hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# Text with what JSON must escape or may keep: controls, quotes, backslashes, DEL, non-ASCII,
# U+2028/U+2029, characters beyond the BMP (no lone surrogates: UTF-8 cannot carry them).
TEXT = st.text(st.one_of(st.sampled_from('\x00\x01\x08\t\n\x0b\x0c\r\x1f"\\/\x7f\x80\u2028\u2029\ufeff\uffffé中😀'),
                         st.characters(exclude_categories=("Cs",))), max_size=30)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), TEXT, st.lists(TEXT, max_size=4))
CANONICAL = st.dictionaries(TEXT, st.one_of(SCALAR, st.dictionaries(TEXT, st.one_of(TEXT, st.lists(TEXT, max_size=3)),
                                                                    max_size=5)), max_size=8)


@settings(max_examples=2000, deadline=None)
@given(CANONICAL)
def test_canonical_json_is_the_standard_librarys(value):
    """What every stored hash covers does not change with the serialiser: ``_canonical`` equals
    ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)``."""
    assert _canonical(value) == standard_canonical(value)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 2**31), TEXT, st.dates(), st.datetimes(timezones=st.just(timezone.utc)),
       st.dictionaries(TEXT, st.one_of(TEXT, st.lists(TEXT, max_size=3)), max_size=4), st.one_of(st.none(), TEXT))
def test_posting_body_and_request_hash_are_the_standard_librarys(party_id, text, day, when, evidence, reason):
    body = dict(party_id=party_id, rule_code=text, effective_date=day, recorded_at=when, evidence=evidence,
                entered_by_id=None, entered_by=text, approved_by_id=party_id, source="csv", source_id=text,
                idempotency_key=text, request_hash="0" * 64, reverses_id=None, reason=reason)
    assert body_json(**body) == standard_canonical({
        **body, "effective_date": day.isoformat(), "recorded_at": when.isoformat(timespec="microseconds")})
    content = {"party_id": party_id, "rule_code": text, "effective_date": day, "evidence": evidence}
    assert request_hash(**content) == hashlib.sha256(standard_canonical(content).encode()).hexdigest()
    assert _canonical({"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "on": date(2026, 1, 2)}) == \
        '{"at":"2026-01-02 03:04:05+00:00","on":"2026-01-02"}'
