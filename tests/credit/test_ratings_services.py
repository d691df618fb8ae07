"""Ratings: levels, veto, the run job, the review workflow, objections, overrides and credit repair."""
from datetime import date, timedelta

import pytest

from tests.conftest import make_resident_id
from sqlalchemy import select

from credit import services
from credit.models import Rating, RatingRun
from greenfin.job_model import Job
from greenfin.core.types import utcnow
from greenfin.errors import Conflict, Forbidden, ValidationFailed
from greenfin.extensions import db
from greenfin.uow import commit


def rate(period="2026-Q3"):
    period_row = services.get_or_create_period(period)
    run = RatingRun(period_id=period_row.id, created_by="test")
    db.session.add(run)
    db.session.flush()
    services.rate_all(run)
    return {r.party_id: r for r in db.session.scalars(select(Rating).where(Rating.period_id == period_row.id))}


def publish(rating, regulator):
    services.approve_rating(rating.id, actor=regulator, now=utcnow() - timedelta(days=20))
    return services.publish_rating(rating.id, actor=regulator)


def test_colour_for_uses_thresholds_per_kind():
    assert [services.colour_for("firm", p) for p in (30, 29, 0, -30, -31)] == ["green", "blue", "blue", "yellow", "red"]
    assert services.colour_for("individual", 10) == "green"
    assert services.colour_for("firm", 500, veto=True) == "red"


def test_period_bounds_parses_quarters_halves_years():
    assert services.period_bounds("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert services.period_bounds("2026-q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert services.period_bounds("2026-H1") == (date(2026, 1, 1), date(2026, 6, 30))
    with pytest.raises(ValidationFailed):
        services.period_bounds("Q3-2026")


def test_rate_all_turns_points_into_levels_and_applies_veto(create_party, post):
    good, vetoed, plain = create_party(), create_party(), create_party()
    for _ in range(4):
        post(good, "FIRM_EMISSIONS_COMPLIANT", effective_date=date(2026, 9, 1))
    for _ in range(10):
        post(vetoed, "FIRM_EMISSIONS_COMPLIANT", effective_date=date(2026, 9, 1))
    post(vetoed, "FIRM_VETO_MAJOR_INCIDENT", effective_date=date(2026, 9, 2))
    ratings = rate()
    assert (ratings[good.id].colour, ratings[good.id].points) == ("green", 32)
    assert ratings[plain.id].colour == "blue"
    assert ratings[vetoed.id].colour == "red" and ratings[vetoed.id].veto_rule_code == "FIRM_VETO_MAJOR_INCIDENT"


def test_reversed_veto_no_longer_applies(create_party, post, create_user):
    firm = create_party()
    veto = post(firm, "FIRM_VETO_DATA_FRAUD", effective_date=date(2026, 8, 1))
    services.reverse_posting(veto.id, reason="处罚决定被撤销", idempotency_key="undo", actor=create_user("regulator"))
    assert rate("2026")[firm.id].colour == "blue"


def test_rate_all_twice_keeps_reviewed_ratings(create_party, post, regulators):
    firm = create_party()
    rating = rate()[firm.id]
    services.approve_rating(rating.id, actor=regulators[0])
    post(firm, "FIRM_EMISSION_EXCEEDED", effective_date=date(2026, 9, 1))
    again = rate()[firm.id]
    assert again.id == rating.id and again.state == "notice" and again.points == 0


def test_rating_run_job_rates_everyone(create_party, drain_jobs, app):
    party = create_party()
    run = services.start_rating_run("2026-Q3")
    run_id, job_id = run.id, run.job_id
    commit()
    drain_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "finished", job.error
    assert job.result["rated"] >= 1
    assert db.session.get(RatingRun, run_id).status == "finished"
    assert db.session.scalar(select(Rating).where(Rating.party_id == party.id)).state == "computed"


def test_workflow_notice_then_publish(create_party, regulators):
    firm = create_party()
    rating = rate()[firm.id]
    assert services.current_rating(firm.id) is None
    with pytest.raises(Conflict):
        services.publish_rating(rating.id)
    services.approve_rating(rating.id, actor=regulators[0])
    assert rating.state == "notice" and (rating.notice_ends_at - rating.notice_starts_at).days == 15
    with pytest.raises(Conflict):
        services.publish_rating(rating.id)  # notice still running
    services.publish_rating(rating.id, now=rating.notice_ends_at)
    current = services.current_rating(firm.id)
    assert current.colour == "blue" and current.period == "2026-Q3" and current.rating_id == rating.id


def test_objection_blocks_publication_until_answered(create_party, regulators):
    firm = create_party()
    rating = rate()[firm.id]
    services.approve_rating(rating.id, actor=regulators[0])
    objection = services.file_objection(rating.id, "整改已完成")
    assert objection.deadline > utcnow() + timedelta(days=9)
    assert services.publish_due_ratings(now=rating.notice_ends_at) == 0
    services.answer_objection(objection.id, decision="upheld", answer="核实属实", new_colour="green",
                              actor=regulators[1])
    assert rating.colour == "green"
    assert services.publish_due_ratings(now=rating.notice_ends_at + timedelta(days=1)) == 1
    assert services.current_rating(firm.id).colour == "green"


def test_objection_outside_notice_is_refused(create_party):
    party = create_party()
    rating = rate()[party.id]
    with pytest.raises(Conflict):
        services.file_objection(rating.id, "太低")


def test_override_needs_second_regulator(create_party, regulators):
    first, second = regulators
    party = create_party()
    rating = rate()[party.id]
    override = services.request_override(rating.id, to_colour="yellow", reason="现场检查发现问题", actor=first)
    with pytest.raises(Conflict):
        services.approve_rating(rating.id, actor=first)  # an override is pending
    with pytest.raises(Forbidden):
        services.decide_override(override.id, approve=True, actor=first)
    services.decide_override(override.id, approve=True, actor=second)
    assert rating.colour == "yellow" and rating.computed_colour == "blue"
    with pytest.raises(ValidationFailed):
        services.request_override(rating.id, to_colour="green", reason=" ", actor=first)


def test_repair_hides_rating_but_keeps_it(create_party, post, regulators):
    firm = create_party(name="修复测试有限公司")
    post(firm, "FIRM_VETO_DATA_FRAUD", effective_date=date(2026, 8, 1))
    rating = publish(rate()[firm.id], regulators[0])
    assert services.current_rating(firm.id).colour == "red"
    assert [r.id for r in db.session.scalars(services.public_rating_query(q="修复测试"))] == [rating.id]
    repair = services.apply_repair(rating.id, "已整改并通过比对监测")
    with pytest.raises(Conflict):
        services.apply_repair(rating.id, "again")
    services.decide_repair(repair.id, approve=True, note="整改到位", actor=regulators[1])
    assert services.current_rating(firm.id) is None
    assert list(db.session.scalars(services.public_rating_query(q="修复测试"))) == []
    assert db.session.get(Rating, rating.id).hidden is True


def test_public_query_masks_and_finds_individuals_by_id_number_only(create_party, regulators):
    number = make_resident_id()
    person = create_party(kind="individual", name="周建华", resident_id=number)
    rating = publish(rate()[person.id], regulators[0])
    assert services.masked_name(person) == "周*华"
    assert services.public_identifier(person).count("*") == 11
    # Probe item 12: an exact name is no oracle for a person's rating; the full ID number is.
    assert list(db.session.scalars(services.public_rating_query(q="周建华"))) == []
    assert list(db.session.scalars(services.public_rating_query(q="周"))) == []
    assert [r.id for r in db.session.scalars(services.public_rating_query(q=number))] == [rating.id]
    assert list(db.session.scalars(services.public_rating_query(q=number[:-1] + "Z"))) == []
