"""Insurance services: weather import, policies, the daily evaluation (exactly once), maker-checker
payouts to the loss payee through lending, the fund, and the insured discount in lending's price."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import func, select

from greenfin.core.models import AuditEvent
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from greenfin.insurance import jobs, services, synthetic
from greenfin.insurance.models import FundEntry, InsuranceClaim, PayoutEvent, WeatherObservation
from greenfin.job_model import Job
from greenfin.jobs import run_job
from greenfin.uow import commit
from tests.insurance.conftest import SEASON_START, import_season
from tests.lending.conftest import champion, create_application, products  # noqa: F401 (fixtures)

FROST_SPELL = {date(2025, 12, 20): -3.4, date(2025, 12, 21): -5.2, date(2025, 12, 22): -2.0}


# ---------------------------------------------------------------- weather


def test_import_weather_stores_good_rows_and_reports_bad_rows_duplicates_and_gaps(create_station):
    station = create_station(code="T-IMP")
    text = "\n".join([
        "station,date,tmin,tmax,precipitation",
        "T-IMP,2025-01-01,1.0,9.0,0",
        "T-IMP,2025-01-02,-2.5,6.0,3.2",
        "T-IMP,2025-01-02,-2.0,6.0,3.2",     # duplicate day in the file
        "T-IMP,2025-01-05,2.0,1.0,0",        # tmax below tmin
        "NOPE,2025-01-05,2.0,8.0,0",         # unknown station
        "T-IMP,2025-13-01,2.0,8.0,0",        # bad date
        "T-IMP,2025-01-06,abc,8.0,-1",       # not a number, negative rain
        "T-IMP,2025-01-07,3.0,8.0,0",
    ]) + "\n"
    report = services.import_observations(text)
    assert report.created == 3
    assert report.duplicates == [(4, "T-IMP 2025-01-02")]
    assert [line for line, _r in report.errors] == [5, 6, 7, 8]
    assert "tmax: is below tmin" in report.errors[0][1]
    assert "unknown station" in report.errors[1][1]
    assert "tmin" in report.errors[3][1] and "precipitation" in report.errors[3][1]
    assert report.gaps == [("T-IMP", "2025-01-03", "2025-01-06")]
    again = services.import_observations("station,date,tmin,tmax,precipitation\nT-IMP,2025-01-01,5,9,0\n")
    assert again.created == 0 and again.duplicates == [(2, "T-IMP 2025-01-01")]
    held = db.session.scalar(select(WeatherObservation.tmin).where(WeatherObservation.observed_on == date(2025, 1, 1)))
    assert held == Decimal("1.0")  # never overwritten


def test_import_weather_refuses_a_file_without_the_columns(create_station):
    with pytest.raises(ValidationFailed) as exc:
        services.import_observations("station,day,low\nX,2025-01-01,1\n")
    assert "missing columns: date, tmin, tmax, precipitation" in exc.value.errors["file"][0]


def test_parcels_link_to_the_nearest_station(create_station, create_parcel):
    create_station(code="T-FARAWAY", lat=Decimal("30.50"), lon=Decimal("120.00"))
    parcel = create_parcel()
    assert services.parcel_station(parcel.id) is None  # every station is beyond 50 km
    near = create_station(code="T-NEAR", lat=Decimal("28.50"), lon=Decimal("118.30"))
    create_station(code="T-FAR", lat=Decimal("28.30"), lon=Decimal("118.10"))
    link = services.parcel_station(parcel.id)
    assert link.station_id == near.id and link.distance_km == Decimal("1.480")


# ---------------------------------------------------------------- products and policies


def test_product_versions_and_checked_terms(create_index_product):
    first = create_index_product()
    second = create_index_product(premium_rate="0.07")
    assert (first.code, first.version, second.version) == ("T-FROST", 1, 2)
    assert first.premium_rate == Decimal("0.080000")  # the first version is never edited
    with pytest.raises(ValidationFailed) as exc:
        create_index_product(exit="-1", subsidy={"central": "0.5", "farmer": "0.6"}, season_start="13-01")
    assert {"exit", "subsidy", "season_start"} <= set(exc.value.errors)


def test_issue_policy_prices_and_splits_the_premium(frost_setup):
    _station, product, parcels, policies = frost_setup
    policy = policies[0]
    assert policy.sum_insured == Decimal("55000.00")  # 5.5 ha × 10,000
    assert policy.premium == Decimal("4400.00")
    assert (policy.premium_central, policy.premium_provincial, policy.premium_county, policy.premium_farmer) == (
        Decimal("1540.00"), Decimal("1100.00"), Decimal("1100.00"), Decimal("660.00"))
    assert (policy.starts_on, policy.ends_on) == (date(2025, 12, 1), date(2026, 2, 28))
    with pytest.raises(Conflict):
        services.issue_policy({"product_id": product.id, "parcel_id": parcels[0].id, "season": 2025, "backdated": True})
    with pytest.raises(ValidationFailed) as exc:
        services.issue_policy({"product_id": product.id, "parcel_id": parcels[0].id, "season": 2024})
    assert exc.value.errors == {"season": ["this season has ended"]}


def test_issue_policy_refuses_a_parcel_of_another_cover(frost_setup, create_parcel):
    _station, product, _parcels, _policies = frost_setup
    forest = create_parcel(land_cover="forest")
    with pytest.raises(ValidationFailed) as exc:
        services.issue_policy({"product_id": product.id, "parcel_id": forest.id, "season": 2030})
    assert "insures orchard parcels" in exc.value.errors["parcel_id"][0]


# ---------------------------------------------------------------- evaluation: exactly once


def _claims():
    return list(db.session.scalars(select(InsuranceClaim).order_by(InsuranceClaim.policy_id)))


def test_evaluate_creates_one_event_and_one_claim_per_policy(frost_setup):
    station, _product, _parcels, policies = frost_setup
    import_season(station, FROST_SPELL)
    assert services.evaluate_policies(date(2025, 12, 21)) == 0  # the spell is still going on
    assert services.evaluate_policies(date(2025, 12, 23)) == 2
    event = db.session.scalar(select(PayoutEvent))
    assert (event.started_on, event.ended_on, event.index_value, event.payout_share) == (
        date(2025, 12, 20), date(2025, 12, 21), Decimal("-5.2"), Decimal("0.6"))
    assert [r["date"] for r in event.readings][:2] == ["2025-12-18", "2025-12-19"]  # the days around it too
    assert [(c.policy_id, c.amount, c.status) for c in _claims()] == [
        (policies[0].id, Decimal("33000.00"), "pending"), (policies[1].id, Decimal("33000.00"), "pending")]
    # the same day again, a later day and the end of the season: no second claim
    assert services.evaluate_policies(date(2025, 12, 23)) == 0
    assert services.evaluate_policies(date(2026, 3, 10)) == 0
    assert len(_claims()) == 2


def test_an_evaluation_job_retried_after_a_kill_makes_one_claim_per_policy_and_event(frost_setup, drain_jobs):
    station, *_rest = frost_setup
    import_season(station, FROST_SPELL)
    job = services.start_evaluation(date(2025, 12, 23))
    commit()  # dispatched after the commit: inline here, or to rq
    drain_jobs()
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == "finished" and len(_claims()) == 2
    # the worker died after its commit but before rq heard of it: the job runs again
    db.session.get(Job, job.id).status = "started"
    db.session.commit()
    run_job(job.id)
    assert len(_claims()) == 2 and db.session.scalar(select(func.count(PayoutEvent.id))) == 1


def test_a_killed_evaluation_leaves_nothing_and_the_retry_makes_the_claims(frost_setup):
    station, *_rest = frost_setup
    import_season(station, FROST_SPELL)

    class Ctx:
        job_id = "t"

        def set_result(self, **kw):
            pass

    with db.session.begin_nested() as attempt:  # the first attempt is killed before its commit
        jobs.evaluate(Ctx(), "2025-12-23")
        attempt.rollback()
    assert _claims() == []
    jobs.evaluate(Ctx(), "2025-12-23")
    jobs.evaluate(Ctx(), "2025-12-23")
    assert len(_claims()) == 2


def test_claims_of_a_season_stay_within_the_sum_insured(frost_setup):
    station, *_rest, policies = frost_setup
    import_season(station, {date(2025, 12, 5): -8, date(2026, 1, 10): -7.5, date(2026, 2, 1): -4})
    assert services.evaluate_policies(date(2026, 3, 1)) == 2  # the first event takes the whole sum insured
    assert [c.amount for c in _claims()] == [Decimal("55000.00")] * 2
    assert db.session.scalar(select(func.count(PayoutEvent.id))) == 3  # later spells are events without claims
    assert services.evaluate_policies(date(2026, 3, 2)) == 0


# ---------------------------------------------------------------- approval and payout


@pytest.fixture
def maker_checker(create_user):
    return create_user("insurer"), create_user("insurer")


def test_maker_checker_and_payout_to_the_holder(frost_setup, maker_checker):
    station, *_rest = frost_setup
    maker, checker = maker_checker
    import_season(station, FROST_SPELL)
    services.evaluate_policies(date(2025, 12, 23))
    claim = _claims()[0]
    with pytest.raises(Conflict):
        services.propose_claim(claim)  # nobody signed in
    g.user = maker
    try:
        services.propose_claim(claim, "站点读数核实")
        with pytest.raises(Conflict):
            services.approve_claim(claim)  # the maker cannot approve
        g.user = checker
        services.approve_claim(claim, paid_on=date(2025, 12, 28))
        with pytest.raises(Conflict):
            services.approve_claim(claim)
    finally:
        g.pop("user", None)
    assert (claim.status, claim.to_lender, claim.to_holder, claim.loan_id) == ("paid", 0, Decimal("33000.00"), None)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "ins_claim",
                                                                     AuditEvent.entity_id == str(claim.id))))
    assert actions == {"insurance.claim.create", "insurance.claim.propose", "insurance.claim.pay"}


def test_reject_needs_a_reason_and_a_second_person(frost_setup, maker_checker):
    station, *_rest = frost_setup
    maker, checker = maker_checker
    import_season(station, FROST_SPELL)
    services.evaluate_policies(date(2025, 12, 23))
    claim = _claims()[0]
    g.user = maker
    try:
        services.propose_claim(claim)
        with pytest.raises(ValidationFailed):
            services.reject_claim(claim, " ")
        with pytest.raises(Conflict):
            services.reject_claim(claim, "读数有误")
        g.user = checker
        services.reject_claim(claim, "站点设备故障，读数待复核")
    finally:
        g.pop("user", None)
    assert claim.status == "rejected" and services.fund_summary()["claims"] == 0


def _pay(claim, maker, checker, on):
    """The maker proposes, the checker approves and pays."""
    g.user = maker
    services.propose_claim(claim)
    g.user = checker
    services.approve_claim(claim, paid_on=on)
    g.pop("user", None)


def _booked_orchard_loan(create_application, parcel, monkeypatch):
    from greenfin.lending import services as lending

    monkeypatch.setattr(lending, "APPROVE_AT", 0)
    monkeypatch.setattr(lending, "REFER_AT", 0)
    application = create_application(kind="orchard", party=parcel.holder, amount=Decimal("60000"), term_months=24,
                                     applied_on=date(2025, 5, 1))
    lending.add_collateral(application, {"parcel_id": parcel.id, "appraised_value": "200000"})
    lending.decide_application(application)
    assert application.status == "approved"
    return lending.book_loan(application, date(2025, 5, 20))


def test_payout_pays_the_lender_first_clears_arrears_and_is_a_pool_recovery(frost_setup, maker_checker,
                                                                           create_application, champion, monkeypatch):
    from greenfin.lending import services as lending
    from greenfin.pools.reporting import loan_month

    station, product, parcels, policies = frost_setup
    loan = _booked_orchard_loan(create_application, parcels[0], monkeypatch)
    assert services.loss_payee_loans([parcels[0].id]) == {parcels[0].id: loan.id}
    import_season(station, FROST_SPELL)
    services.evaluate_policies(date(2025, 12, 23))
    lending.refresh_delinquency(date(2025, 12, 28))
    assert loan.days_past_due > 0  # the harvest instalments of October and November are unpaid
    owed_now = sum((i.amount_unpaid for i in loan.instalments if i.due_date <= date(2025, 12, 28)), Decimal("0"))
    claim = next(c for c in _claims() if c.policy_id == policies[0].id)
    assert claim.amount > owed_now
    _pay(claim, *maker_checker, date(2025, 12, 28))
    assert (claim.loan_id, claim.to_lender, claim.to_holder) == (loan.id, claim.amount, Decimal("0"))
    assert loan.days_past_due == 0 and loan.bucket == "current"
    facts = lending.loan_facts([loan.id], date(2025, 12, 31))[loan.id]
    paid = [r for r in facts.repayments if r.source == "insurance"]
    assert [(r.amount, r.received_on) for r in paid] == [(claim.amount, date(2025, 12, 28))]
    month = loan_month(facts, date(2025, 12, 1), date(2025, 12, 31))
    assert month["recoveries"] == claim.amount and month["insurance_recoveries"] == claim.amount
    assert month["interest"] == 0  # an insurer's payout is a recovery, not the borrower's collections


def test_payout_above_what_the_loan_owes_pays_the_rest_to_the_holder(frost_setup, maker_checker,
                                                                   create_application, champion, monkeypatch):
    station, product, parcels, policies = frost_setup
    loan = _booked_orchard_loan(create_application, parcels[0], monkeypatch)
    from greenfin.lending import services as lending

    owed = sum((i.amount_unpaid for i in loan.instalments), Decimal("0"))
    lending.record_repayment(loan, owed - Decimal("1000.00"), date(2025, 6, 1))
    import_season(station, FROST_SPELL)
    services.evaluate_policies(date(2025, 12, 23))
    claim = next(c for c in _claims() if c.policy_id == policies[0].id)
    _pay(claim, *maker_checker, date(2025, 12, 28))
    assert (claim.to_lender, claim.to_holder) == (Decimal("1000.00"), claim.amount - Decimal("1000.00"))
    assert loan.status == "repaid"


# ---------------------------------------------------------------- the fund


def test_premiums_minus_claims_is_the_fund_balance_across_a_generated_season(create_station, create_index_product,
                                                                           create_parcel, maker_checker):
    rng = random.Random(7)
    station = create_station(code="T-GEN")
    product = create_index_product(code="T-GEN", trigger="-2", exit="-6",
                                   tiers=[{"level": "-2", "share": "0.25"}, {"level": "-4", "share": "0.5"},
                                          {"level": "-6", "share": "1"}])
    rows = list(synthetic.series("T-GEN", SEASON_START, SEASON_START + timedelta(days=89), seed=3, offset=-4.0))
    services.import_observations(synthetic.to_csv(rows))
    parcels = [create_parcel(area_ha=Decimal(str(round(rng.uniform(0.3, 40), 4)))) for _ in range(12)]
    services.link_parcels([p.id for p in parcels])
    policies = [services.issue_policy({"product_id": product.id, "parcel_id": p.id, "season": 2025, "backdated": True})
                for p in parcels]
    assert services.evaluate_policies(date(2026, 3, 1)) > 0
    maker, checker = maker_checker
    claims = _claims()
    for claim in claims:
        g.user = maker
        services.propose_claim(claim)
        g.user = checker
        if rng.random() < 0.8:
            services.approve_claim(claim, paid_on=date(2026, 3, 2))
        else:
            services.reject_claim(claim, "复核未通过")
    g.pop("user", None)
    premiums = sum((p.premium for p in policies), Decimal("0"))
    paid = sum((c.amount for c in claims if c.status == "paid"), Decimal("0"))
    fund = services.fund_summary()
    assert (fund["premiums"], fund["claims"]) == (premiums, paid)
    assert fund["balance"] == premiums - paid == db.session.scalar(select(func.sum(FundEntry.amount)))
    for policy in policies:
        assert sum((c.amount for c in claims if c.policy_id == policy.id), Decimal("0")) <= policy.sum_insured


# ---------------------------------------------------------------- underwriting


def test_an_insured_orchard_loan_is_priced_lower(frost_setup, create_index_product, create_application, champion,
                                                 monkeypatch):
    from greenfin.lending import services as lending

    _station, _product, parcels, _policies = frost_setup
    current = create_index_product(code="T-NOW")
    monkeypatch.setattr(lending, "APPROVE_AT", 0)
    monkeypatch.setattr(lending, "REFER_AT", 0)
    decisions = []
    for parcel, insure in ((parcels[0], True), (parcels[1], False)):
        if insure:
            services.issue_policy({"product_id": current.id, "parcel_id": parcel.id, "season": 2090})
        application = create_application(kind="orchard", party=parcel.holder, amount=Decimal("60000"))
        lending.add_collateral(application, {"parcel_id": parcel.id, "appraised_value": "200000"})
        decisions.append(lending.decide_application(application))
    insured, plain = decisions
    assert insured.insurance_discount == lending.INSURED_DISCOUNT == Decimal("0.0030")
    assert plain.insurance_discount == 0
    assert plain.rate - insured.rate == lending.INSURED_DISCOUNT or insured.rate == insured.application.product.min_rate


def test_price_rule_subtracts_the_insured_discount_within_the_product_range(products, create_application):
    from greenfin.lending import pricing

    application = create_application(kind="orchard")
    plain = pricing.price(application, "C", "blue")
    insured = pricing.price(application, "C", "blue", insured=True)
    assert plain["rate"] - insured["rate"] == pricing.INSURED_DISCOUNT
    assert insured["insurance_discount"] == pricing.INSURED_DISCOUNT and plain["insurance_discount"] == 0
    floor = pricing.price(application, "A", "green", insured=True)
    assert floor["rate"] >= application.product.min_rate
