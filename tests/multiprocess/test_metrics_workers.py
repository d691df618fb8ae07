"""/metrics under gunicorn with 2 workers (PROMETHEUS_MULTIPROC_DIR): the workers' counts add up.

Its own database (``greenfin_test_ops_mp``) and Redis db 14, apart from the shared stack.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from greenfin.extensions import db
from greenfin.stack import http, running_stack
from tests.conftest import migrated_app, reset_postgres, using_postgres, using_redis

pytestmark = [pytest.mark.multiprocess, pytest.mark.no_db_isolation]

TOKEN = "mp-metrics-token"
REDIS = os.environ.get("GREENFIN_TEST_MP_REDIS_URL", "redis://127.0.0.1:6379/14")
HEALTHZ = {"endpoint": "health.healthz", "method": "GET", "status": "200"}


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "greenfin_http_requests_total" and sample.labels == HEALTHZ:
                return sample.value
    return 0.0


def per_process_counts(directory) -> dict[str, float]:
    """The healthz count each process wrote, read file by file (each copied into a folder of its own)."""
    counts = {}
    for path in sorted(directory.glob("counter_*.db")):
        alone = Path(tempfile.mkdtemp(dir=directory.parent))
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))
        counts[path.stem] = healthz_count(generate_latest(registry).decode())
    return counts


def test_metrics_add_up_the_counts_of_two_gunicorn_workers(tmp_path):
    if not (using_postgres() and using_redis()):
        pytest.skip("the multi-process tests run on PostgreSQL and Redis")
    from redis import Redis

    Redis.from_url(REDIS).flushdb()
    url = reset_postgres(os.environ.get("GREENFIN_TEST_MP_PG_DB", "greenfin_test_ops_mp"))
    instance = tmp_path / "instance"
    app = migrated_app(url, instance=instance, REDIS_URL=REDIS)
    with app.app_context():
        db.engine.dispose()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_TOKEN": TOKEN}
    with running_stack(url, REDIS, instance, web_workers=2, rq_workers=0, extra_env=env) as base:
        assert http("GET", base + "/metrics")[0] == 401  # refused without the token
        sent = 0
        with ThreadPoolExecutor(max_workers=16) as pool:
            while sent < 2000:
                statuses = list(pool.map(lambda _: http("GET", base + "/healthz")[0], range(200)))
                assert statuses == [200] * 200
                sent += 200
                if sum(1 for n in per_process_counts(metrics_dir).values() if n) >= 2:
                    break
        status, body, headers = http("GET", base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        text = body.decode()
    counts = per_process_counts(metrics_dir)
    serving = [n for n in counts.values() if n]
    assert len(serving) == 2, counts  # both workers answered some
    assert healthz_count(text) == sum(serving) == sent  # and /metrics, from either, adds them up
    assert "greenfin_queue_depth" in text and "greenfin_jobs" in text
