"""/metrics (greenfin/metrics.py): Prometheus text, bearer METRICS_TOKEN, the platform's series."""
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from greenfin import dates
from greenfin.uow import commit
from greenfin.jobs import enqueue

TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def scrape(client) -> dict:
    """{(sample name, sorted labels): value} of one scrape."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def test_metrics_refuses_request_without_token(client, metrics_on):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.json["errors"] == {"Authorization": ["应提供 Bearer METRICS_TOKEN"]}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401  # no scheme


def test_metrics_is_absent_without_configured_token(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_counts_requests_by_endpoint_and_status_with_latency(client, metrics_on):
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    after = scrape(client)
    ok = ("greenfin_http_requests_total", (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")))
    missing = ("greenfin_http_requests_total", (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")))
    assert after[ok] - before.get(ok, 0) == 2
    assert after[missing] - before.get(missing, 0) == 1
    count = ("greenfin_http_request_duration_seconds_count", (("endpoint", "health.healthz"),))
    assert after[count] - before.get(count, 0) == 2
    assert after[("greenfin_http_request_duration_seconds_bucket", (("endpoint", "health.healthz"), ("le", "+Inf")))] \
        == after[count]


def test_metrics_counts_ledger_postings(client, metrics_on, create_party):
    from credit import services

    party = create_party()
    before = scrape(client).get(("greenfin_ledger_postings_total", ()), 0)
    services.submit_posting(party.id, "FIRM_DISCLOSURE", idempotency_key="metrics-1", review=False)
    services.submit_posting(party.id, "FIRM_DISCLOSURE", idempotency_key="metrics-1", review=False)  # a replay
    commit()
    assert scrape(client)[("greenfin_ledger_postings_total", ())] - before == 1


def test_metrics_report_checkpoint_age_verify_result_and_jobs(client, metrics_on, create_party, monkeypatch,
                                                              drain_jobs):
    from credit import integrity, services
    from greenfin.schedule import enqueue_due

    services.submit_posting(create_party().id, "FIRM_DISCLOSURE", idempotency_key="metrics-2", review=False)
    monkeypatch.setattr(integrity, "utc_today", lambda: dates.utcnow().date() + timedelta(days=1))  # today closed
    enqueue_due()  # the checkpoint and the verification, among the others
    drain_jobs()
    samples = scrape(client)
    age = samples[("greenfin_ledger_last_checkpoint_age_seconds", ())]
    assert -86400 <= age <= 0  # the checkpointed day is today, which ends within a day
    assert samples[("greenfin_ledger_verify_ok", ())] == 1
    assert samples[("greenfin_ledger_verify_timestamp_seconds", ())] <= dates.utcnow().timestamp()
    assert samples[("greenfin_jobs", (("kind", "greenfin.schedule.run_scheduled"), ("status", "finished")))] >= 7


def test_metrics_report_queue_depth_on_redis(app, client, metrics_on):
    if not app.config.get("REDIS_URL"):
        pytest.skip("queue depth is read from Redis")
    from rq import Queue

    from greenfin.jobs import redis_connection

    queue = Queue("low", connection=redis_connection())
    before = scrape(client)[("greenfin_queue_depth", (("queue", "low"),))]
    enqueue("greenfin.schedule.run_scheduled", {"schedule": "lending-purge-batches", "occurrence": "x"},
            title="depth", queue="low")
    commit()  # no worker runs in this test: the job waits in "low"
    try:
        assert scrape(client)[("greenfin_queue_depth", (("queue", "low"),))] == before + 1
    finally:
        queue.empty()
