"""Rate limits and login throttling: 429 with Retry-After and a translated wait; per (account, network)
backoff so a stranger cannot lock the owner out (probe item 11); admins unlock."""
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from greenfin.auth import throttle
from greenfin.core.models import AuditEvent
from greenfin.extensions import db

OWNER_NET, STRANGER_NET = "198.51.100.20", "203.0.113.7"
RIGHT, WRONG = "correct-horse-battery", "wrong-guess-123"


def sign_in(client, username, password, address=OWNER_NET, **params):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, query_string=params)


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves: ``clock.now += 5``."""

    class Clock:
        now = time.time()

    monkeypatch.setattr(time, "time", lambda: Clock.now)
    return Clock


def test_probe_11_stranger_cannot_lock_the_owner_out(client, create_user, limits_on):
    user = create_user("regulator")
    codes = [sign_in(client, user.username, WRONG, STRANGER_NET).status_code for _ in range(12)]
    assert codes[:5] == [401] * 5 and 429 in codes[5:]
    assert sign_in(client, user.username, RIGHT, STRANGER_NET).status_code == 429  # the stranger waits
    assert sign_in(client, user.username, RIGHT, OWNER_NET).status_code == 302  # the owner gets in at once


def test_backoff_doubles_per_account_and_network(client, create_user, limits_on, clock):
    user = create_user("regulator")
    for _ in range(throttle.FREE_FAILURES - 1):
        assert sign_in(client, user.username, WRONG).status_code == 401
    waits = []
    for _ in range(4):
        failed = sign_in(client, user.username, WRONG)
        assert failed.status_code == 401
        refused = sign_in(client, user.username, RIGHT)  # refused before the password is looked at
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.now += waits[-1]
    assert waits == [2, 4, 8, 16]
    assert sign_in(client, user.username, RIGHT).status_code == 302
    assert throttle.throttled_networks(user.username) == []  # success forgives this network's failures


def test_owner_on_the_strangers_network_waits_the_short_backoff_only(client, create_user, limits_on, clock):
    user = create_user("regulator")
    for _ in range(throttle.FREE_FAILURES):
        sign_in(client, user.username, WRONG, "198.51.100.99")  # the same /24 as the owner
    refused = sign_in(client, user.username, RIGHT, OWNER_NET)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == throttle.BASE_DELAY
    clock.now += throttle.BASE_DELAY
    assert sign_in(client, user.username, RIGHT, OWNER_NET).status_code == 302


def test_network_limit_stops_password_spraying(client, create_user, limits_on, monkeypatch):
    monkeypatch.setattr(throttle, "NETWORK_LIMIT", 4)
    user = create_user("regulator")
    codes = [sign_in(client, f"guess-{i}", WRONG, STRANGER_NET).status_code for i in range(6)]
    assert codes == [401] * 4 + [429] * 2  # each account only once, but the network is over its limit
    assert sign_in(client, user.username, RIGHT, "203.0.113.200").status_code == 429
    assert sign_in(client, user.username, RIGHT, OWNER_NET).status_code == 302


def test_unknown_names_are_throttled_like_real_ones(client, create_user, limits_on):
    user = create_user("regulator")
    real = [sign_in(client, user.username, WRONG).status_code for _ in range(7)]
    unknown = [sign_in(client, "nobody-here", WRONG).status_code for _ in range(7)]
    assert real == unknown == [401] * 5 + [429, 429]


def test_throttled_login_page_says_the_wait_in_chinese_then_english(client, create_user, limits_on):
    user = create_user("regulator")
    for _ in range(throttle.FREE_FAILURES):
        sign_in(client, user.username, WRONG)
    page = sign_in(client, user.username, RIGHT)
    assert page.status_code == 429 and page.headers["Retry-After"] == "2"
    assert "您所在网络的登录失败次数过多，请在2秒钟后重试。" in page.get_data(as_text=True)
    english = sign_in(client, user.username, RIGHT, lang="en").get_data(as_text=True)
    assert "Too many failed sign-ins from your network: please try again in 2 seconds." in english


def test_login_rate_per_address(client, limits_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3/60")
    codes = [client.post("/login", data={"username": f"u{i}", "password": "x" * 12}).status_code for i in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_429_page_is_chinese_with_the_wait(client, limits_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1/60")
    client.post("/login", data={"username": "u1", "password": "x" * 12})
    page = client.post("/login", data={"username": "u2", "password": "x" * 12})
    wait = int(page.headers["Retry-After"])
    assert page.status_code == 429 and 0 < wait <= 61
    text = page.get_data(as_text=True)
    assert "请求过于频繁，请在" in text and ("秒钟后重试" in text or "1分钟后重试" in text)
    english = client.post("/login?lang=en", data={"username": "u3", "password": "x" * 12}).get_data(as_text=True)
    assert "Too many requests. Please try again in" in english


def test_api_429_is_json_with_the_wait(client, limits_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_DISCLOSURE", "2/60")
    for _ in range(2):
        assert client.get("/api/v1/credit/public/ratings").status_code == 200
    refused = client.get("/api/v1/credit/public/ratings", headers={"Accept-Language": "zh-CN"})
    wait = int(refused.headers["Retry-After"])
    assert refused.status_code == 429 and 0 < wait <= 61
    assert refused.json["code"] == "too_many_requests"
    assert refused.json["message"].startswith("Too many requests. Please try again in ")  # the API speaks English
    assert refused.headers["X-RateLimit-Limit"] == "2" and refused.headers["X-RateLimit-Remaining"] == "0"


def test_limited_answers_carry_the_standard_headers_and_no_retry_after(client, limits_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_DISCLOSURE", "5/60")
    before = int(time.time())
    answers = [client.get("/credit/public") for _ in range(3)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2"]
    assert all(a.headers["X-RateLimit-Limit"] == "5" for a in answers)
    assert before + 60 <= int(answers[0].headers["X-RateLimit-Reset"]) <= int(time.time()) + 62
    assert not any("Retry-After" in a.headers for a in answers)  # only a refusal says when to come back
    assert "X-RateLimit-Limit" not in client.get("/").headers  # unlimited routes say nothing


def test_the_window_moves_with_each_request(client, limits_on, app, monkeypatch, clock):
    """A moving window: a request is let in again exactly when the oldest one counted leaves it,
    whatever the clock's minute; never twice the limit across a boundary as fixed windows allow."""
    monkeypatch.setitem(app.config, "RATELIMIT_DISCLOSURE", "3/60")
    clock.now = 1_800_000_000 + 55  # five seconds before a fixed window's boundary
    codes = [client.get("/credit/public").status_code for _ in range(3)]
    clock.now += 10  # past the boundary: a fixed window would let three more in
    codes.append(client.get("/credit/public").status_code)
    clock.now += 49  # 59 s after the first: still inside its window
    codes.append(client.get("/credit/public").status_code)
    clock.now += 2  # 61 s after the first three: they have left the window
    codes += [client.get("/credit/public").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429, 429, 200, 200, 200, 429]


def _throttle(user, failures=7):
    for _ in range(failures):
        throttle.note_failure(user.username, "203.0.113.0/24")


def _unlock_events(user):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.unlock",
                                                       AuditEvent.entity_id == str(user.id))).all()


def test_admin_unlocks_an_account_from_the_user_page(client, app, create_user, login, limits_on):
    admin, user = create_user("admin"), create_user("regulator")
    login(admin)
    with app.test_request_context():
        _throttle(user)
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "203.0.113.0/24" in page and "解除登录限制" in page
    response = client.post(f"/admin/users/{user.id}/unlock")
    assert response.status_code == 302
    assert "该账户目前没有登录失败记录。" in client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    events = _unlock_events(user)
    assert len(events) == 1 and events[0].before == {"throttled_networks": ["203.0.113.0/24"]}
    assert events[0].actor_id == admin.id
    assert sign_in(client, user.username, RIGHT, STRANGER_NET).status_code == 302


def test_admin_unlocks_an_account_through_the_api(api, app, create_user, limits_on):
    admin, user = api("admin"), create_user("regulator")
    with app.test_request_context():
        _throttle(user)
    shown = admin.get(f"/api/v1/users/{user.id}/login-throttle")
    assert shown.status_code == 200
    assert shown.json["networks"][0]["network"] == "203.0.113.0/24" and shown.json["networks"][0]["wait"] > 0
    assert api("regulator").delete(f"/api/v1/users/{user.id}/login-throttle").status_code == 403
    assert admin.delete("/api/v1/users/99999/login-throttle").status_code == 404
    unlocked = admin.delete(f"/api/v1/users/{user.id}/login-throttle")
    assert unlocked.status_code == 200 and unlocked.json == {"user_id": user.id, "networks": []}
    assert admin.get(f"/api/v1/users/{user.id}/login-throttle").json["networks"] == []
    assert len(_unlock_events(user)) == 1


def test_admin_unlocks_an_account_from_the_cli(runner, app, create_user, limits_on):
    user = create_user("regulator")
    with app.test_request_context():
        _throttle(user)
    result = runner.invoke(args=["unlock-user", user.username.upper()])
    assert result.exit_code == 0 and "1 throttled network(s) cleared" in result.output
    assert len(_unlock_events(user)) == 1
    with app.test_request_context():
        assert throttle.throttled_networks(user.username) == []
    missing = runner.invoke(args=["unlock-user", "nobody-here"])
    assert missing.exit_code == 2 and "username" in missing.output


@given(st.integers(min_value=0, max_value=200))
def test_backoff_is_free_at_first_then_doubles_up_to_the_cap(failures):
    delay = throttle.delay_after(failures)
    assert 0 <= delay <= throttle.MAX_DELAY
    assert (delay == 0) == (failures < throttle.FREE_FAILURES)
    following = throttle.delay_after(failures + 1)
    if failures + 1 == throttle.FREE_FAILURES:
        assert following == throttle.BASE_DELAY
    elif failures + 1 > throttle.FREE_FAILURES:
        assert following == min(2 * delay, throttle.MAX_DELAY)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.sampled_from(["203.0.113.0/24", "192.0.2.0/24", "2001:db8::/64"]), max_size=40))
def test_failures_from_other_networks_never_delay_the_owners(app, networks):
    with app.test_request_context():
        app.config["RATELIMIT_ENABLED"], limit, throttle.NETWORK_LIMIT = True, throttle.NETWORK_LIMIT, 10**9
        try:
            throttle.forget(throttle.account_key("owner"))
            for network in networks:
                throttle.note_failure("owner", network)
            assert throttle.login_wait("owner", "198.51.100.0/24") == 0
            expected = throttle.delay_after(networks.count("192.0.2.0/24"))
            assert throttle.login_wait("owner", "192.0.2.0/24") == expected
        finally:
            throttle.forget(throttle.account_key("owner"))
            app.config["RATELIMIT_ENABLED"], throttle.NETWORK_LIMIT = False, limit


def test_counts_go_on_in_this_process_when_the_storage_fails(app, limits_on, monkeypatch):
    from greenfin import ratelimit

    def down(*args, **kwargs):
        raise ConnectionError("storage unreachable")

    with app.test_request_context():
        assert ratelimit.counter("probe", 60)[0] == 1
        monkeypatch.setattr(ratelimit.limiter.limiter.storage, "incr", down)
        monkeypatch.setattr(ratelimit.limiter.limiter.storage, "get", down)
        assert [ratelimit.counter("probe", 60)[0] for _ in range(2)] == [1, 2]  # counted apart, not lost
        assert ratelimit.counter("probe", 60, add=0)[0] == 2
