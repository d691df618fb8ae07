"""Rate limits on login: 429 with Retry-After, per address and per account."""
import pytest


def test_login_failures_lock_the_account(client, create_user, limits_on):
    user = create_user("regulator")
    for _ in range(10):
        assert client.post("/login", data={"username": user.username, "password": "wrong-guess-123"}).status_code == 401
    blocked = client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_login_rate_per_address(client, limits_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3/60")
    codes = [client.post("/login", data={"username": f"u{i}", "password": "x" * 12}).status_code for i in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_api_429_is_json(api, app, limits_on, monkeypatch):
    from greenfin.ratelimit import check

    with app.test_request_context("/api/v1/parties"):
        for _ in range(2):
            check("probe", 2, 60)
        with pytest.raises(Exception) as err:
            check("probe", 2, 60)
    assert err.value.code == 429 and err.value.retry_after > 0
