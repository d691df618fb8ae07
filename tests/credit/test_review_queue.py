"""The review queue: bulk approve and return (one audit event per rating, all or none), the run's
default period taken from the ratings waiting, and a message after every action."""
from sqlalchemy import select

from credit import services
from credit.models import Rating, RatingRun
from greenfin.core.models import AuditEvent
from greenfin.extensions import db


def _computed(period: str, *parties) -> list[Rating]:
    run = RatingRun(period_id=services.get_or_create_period(period).id, created_by="t")
    db.session.add(run)
    db.session.flush()
    services.rate_all(run)
    db.session.commit()
    return [db.session.scalar(select(Rating).where(Rating.party_id == p.id)) for p in parties]


def _events(action, ratings):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.entity_id.in_([str(r.id) for r in ratings]))).all()


def test_bulk_approve_needs_confirmation_then_writes_one_event_per_rating(client, login, create_user, create_party):
    parties = [create_party() for _ in range(3)]
    ratings = _computed("2026-Q3", *parties)
    login(create_user("regulator"))
    page = client.get("/credit/review").get_data(as_text=True)
    assert page.count('name="rating_ids"') >= 3
    ids = [r.id for r in ratings]
    refused = client.post("/credit/ratings/review?lang=zh_CN", data={"rating_ids": ids, "decision": "approve"},
                          follow_redirects=True)
    assert "请勾选确认" in refused.get_data(as_text=True)
    assert {r.state for r in ratings} == {"computed"}
    done = client.post("/credit/ratings/review?lang=zh_CN",
                       data={"rating_ids": ids, "decision": "approve", "confirm": "y"}, follow_redirects=True)
    assert "3 项评级已批准进入公示" in done.get_data(as_text=True)
    db.session.expire_all()
    assert {r.state for r in ratings} == {"notice"}
    assert len(_events("credit.rating.notice", ratings)) == 3


def test_bulk_return_needs_a_note_and_the_next_run_recomputes(client, login, create_user, create_party):
    parties = [create_party() for _ in range(2)]
    ratings = _computed("2026-Q3", *parties)
    login(create_user("regulator"))
    ids = [r.id for r in ratings]
    client.post("/credit/ratings/review", data={"rating_ids": ids, "decision": "return"})
    assert {r.state for r in ratings} == {"computed"}, "no note: nothing returned"
    client.post("/credit/ratings/review", data={"rating_ids": ids, "decision": "return", "note": "积分有误，重算"})
    db.session.expire_all()
    assert {r.state for r in ratings} == {"returned"}
    events = _events("credit.rating.return", ratings)
    assert len(events) == 2 and {e.after["note"] for e in events} == {"积分有误，重算"}
    _computed("2026-Q3", *parties)
    db.session.expire_all()
    assert {r.state for r in ratings} == {"computed"}


def test_bulk_review_is_all_or_none(create_user, create_party):
    regulator = create_user("regulator")
    first, second = _computed("2026-Q3", create_party(), create_party())
    services.approve_rating(second.id, actor=regulator)
    try:
        services.review_ratings([first.id, second.id], "approve", actor=regulator)
    except Exception as exc:  # noqa: BLE001
        assert any(f"#{second.id}" in item for item in exc.errors["rating_ids"])
    else:
        raise AssertionError("a rating already on notice refuses the batch")
    db.session.rollback()
    assert db.session.get(Rating, first.id).state == "computed"


def test_run_form_defaults_to_the_period_waiting_for_review(client, login, create_user, create_party):
    _computed("2026-Q2", create_party())
    login(create_user("regulator"))
    page = client.get("/credit/review").get_data(as_text=True)
    assert 'name="period" value="2026-Q2"' in page
    assert services.default_run_period() == "2026-Q2"


def test_starting_a_run_says_so(client, login, create_user, create_party, drain_jobs):
    create_party()
    login(create_user("regulator"))
    response = client.post("/credit/runs?lang=zh_CN", data={"period": "2026-Q3"}, follow_redirects=True)
    drain_jobs()
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "2026-Q3" in text and "评级批次已启动" in text


def test_review_api_approves_and_returns(api, create_user, create_party):
    first, second, third = _computed("2026-Q3", create_party(), create_party(), create_party())
    regulator = api("regulator")
    assert regulator.post("/api/v1/credit/ratings/review", json={"rating_ids": [], "decision": "approve"}).status_code == 422
    assert api("admin").post("/api/v1/credit/ratings/review",
                             json={"rating_ids": [first.id], "decision": "approve"}).status_code == 403
    response = regulator.post("/api/v1/credit/ratings/review", json={"rating_ids": [first.id, second.id],
                                                                    "decision": "approve"})
    assert response.status_code == 200 and {r["state"] for r in response.json} == {"notice"}
    assert regulator.post("/api/v1/credit/ratings/review",
                          json={"rating_ids": [third.id], "decision": "return"}).status_code == 422
    response = regulator.post("/api/v1/credit/ratings/review",
                              json={"rating_ids": [third.id], "decision": "return", "note": "核实中"})
    assert response.status_code == 200 and response.json[0]["state"] == "returned"


def test_review_cli_needs_yes_to_approve(runner, create_party):
    ratings = _computed("2026-Q3", create_party(), create_party())
    result = runner.invoke(args=["credit", "review", "--period", "2026-Q3", "--approve"])
    assert result.exit_code == 2 and "--yes" in result.output
    assert {r.state for r in ratings} == {"computed"}
    result = runner.invoke(args=["credit", "review", "--period", "2026-Q3", "--approve", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert {r.state for r in ratings} == {"notice"}
    assert len(_events("credit.rating.notice", ratings)) == 2


def test_bulk_refusal_names_the_rating_in_the_pages_language(client, login, create_user, create_party):
    regulator = create_user("regulator")
    first, second = _computed("2026-Q3", create_party(), create_party(name="已公示主体"))
    services.approve_rating(second.id, actor=regulator)
    db.session.commit()
    login(regulator)
    page = client.post("/credit/ratings/review?lang=zh_CN", data={"rating_ids": [first.id, second.id],
                                                               "decision": "approve", "confirm": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "未作任何更改" in page and "已公示主体" in page
    db.session.expire_all()
    assert db.session.get(Rating, first.id).state == "computed"


def test_publish_due_needs_confirmation(client, login, create_user, create_party):
    from datetime import timedelta

    from greenfin.core.types import utcnow

    regulator = create_user("regulator")
    (rating,) = _computed("2026-Q3", create_party())
    services.approve_rating(rating.id, actor=regulator, now=utcnow() - timedelta(days=20))
    db.session.commit()
    login(regulator)
    assert 'action="/credit/publish-due"' in client.get("/credit/review").get_data(as_text=True)
    client.post("/credit/publish-due")
    assert db.session.get(Rating, rating.id).state == "notice"
    page = client.post("/credit/publish-due?lang=zh_CN", data={"confirm": "y"}, follow_redirects=True)
    assert "已发布 1 条评价" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).state == "published"


def test_rating_page_approval_needs_confirmation(client, login, create_user, create_party):
    regulator = create_user("regulator")
    (rating,) = _computed("2026-Q3", create_party())
    login(regulator)
    action = f"/credit/ratings/{rating.id}/approve"
    assert f'action="{action}"' in client.get(f"/credit/ratings/{rating.id}").get_data(as_text=True)
    client.post(action)
    assert db.session.get(Rating, rating.id).state == "computed"
    page = client.post(f"{action}?lang=zh_CN", data={"confirm": "y"}, follow_redirects=True).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).state == "notice" and "公示" in page
