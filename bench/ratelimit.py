"""What a rate limit costs a request: Flask-Limiter (moving window) against no limit, in the same run.

Prints JSON. A test client sends ``--requests`` GETs to a route limited in production (the public
disclosure API, ``/api/v1/credit/public/ratings``) on an empty migrated SQLite database, each from its
own address so that no request is refused, once with ``RATELIMIT_ENABLED`` off (the baseline) and once
with it on: with the in-process memory storage, and with Redis when ``--redis URL`` is given.

    .venv/bin/python bench/ratelimit.py [--requests 2000] [--redis redis://127.0.0.1:6379/1]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATH = "/api/v1/credit/public/ratings"


def build_app(database: str, redis_url: str | None):
    from flask_migrate import upgrade

    from greenfin import create_app
    from greenfin.config import TestConfig

    config = TestConfig(f"sqlite:///{database}", instance=Path(database).parent)
    config.REDIS_URL = redis_url
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    return app


def run(app, enabled: bool, requests: int) -> dict:
    from greenfin import ratelimit

    app.config["RATELIMIT_ENABLED"] = enabled
    client = app.test_client()
    with app.app_context():
        ratelimit.reset()
    for i in range(50):  # warm up
        client.get(PATH, environ_base={"REMOTE_ADDR": f"10.9.{i // 250}.{i % 250}"})
    started = time.perf_counter()
    statuses = set()
    for i in range(requests):
        response = client.get(PATH, environ_base={"REMOTE_ADDR": f"10.{i // 62500}.{i // 250 % 250}.{i % 250}"})
        statuses.add(response.status_code)
    elapsed = time.perf_counter() - started
    limited = "X-RateLimit-Limit" in response.headers
    return {"requests": requests, "seconds": round(elapsed, 3), "per_request_ms": round(elapsed / requests * 1000, 3),
            "statuses": sorted(statuses), "headers_sent": limited}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(str(Path(folder) / "bench.sqlite"), None)
        baseline = run(app, False, args.requests)
        memory = run(app, True, args.requests)
        result = {"route": PATH, "strategy": "moving-window", "baseline_no_limit": baseline,
                  "memory": memory, "memory_overhead_ms": round(memory["per_request_ms"] - baseline["per_request_ms"], 3)}
        if args.redis:
            app = build_app(str(Path(folder) / "bench-redis.sqlite"), args.redis)
            redis_baseline = run(app, False, args.requests)
            redis = run(app, True, args.requests)
            result.update(redis_baseline_no_limit=redis_baseline, redis=redis,
                          redis_overhead_ms=round(redis["per_request_ms"] - redis_baseline["per_request_ms"], 3))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
