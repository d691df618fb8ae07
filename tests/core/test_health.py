"""Liveness and readiness endpoints."""


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_checks_database(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"
    if app.config.get("REDIS_URL"):
        assert response.json["checks"]["redis"] == "ok"


def test_readyz_reports_redis_down(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_security_headers_on_pages(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Request-ID"]


def test_a_producer_cannot_tell_a_missing_record_from_one_not_theirs(api, create_parcel, create_user, login,
                                                                     client):
    producer = api("producer")
    other = create_parcel()
    missing = other.id + 1000
    answers = [producer.get(f"/api/v1/gep/parcels/{pid}/current") for pid in (other.id, missing)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json == answers[1].json == {"status": 404, "code": "not_found", "errors": {},
                                                  "message": "Not found, or not yours to see"}
    # Staff still hear which it is.
    assert str(missing) in api("admin").get(f"/api/v1/gep/parcels/{missing}/current").json["message"]
    # Pages too, in the reader's language.
    login(create_user("producer"))
    pages = [client.get(f"/parcels/{pid}", headers={"Accept-Language": "zh-CN"}) for pid in (other.id, missing)]
    assert [p.status_code for p in pages] == [404, 404]
    assert all("未找到，或您无权查看" in p.get_data(as_text=True) for p in pages)
