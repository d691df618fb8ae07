"""``/metrics``: the platform's figures in the Prometheus text format (prometheus-client).

Counted where they happen (in every process; under gunicorn and rq set ``PROMETHEUS_MULTIPROC_DIR``
so the processes' counts add up, ``docs/deploy.md``, "Metrics"):

- ``greenfin_http_requests_total{endpoint,method,status}`` and ``greenfin_http_request_duration_seconds``
  (histogram by endpoint): the route's endpoint name, never the raw path;
- ``greenfin_scans_total{verdict}``: public scans by verdict;
- ``greenfin_ledger_postings_total``: eco-credit postings written;
- ``greenfin_labels_drawn_total``: labels drawn by label-sheet jobs (``rate()`` is labels per second);
- ``greenfin_replica_reads_total``: public reads (a page's or a scan's look-ups) served by the read
  replica, and ``greenfin_replica_fallbacks_total{reason}``: those sent to the primary instead
  because the replica lagged (``lag``), was down (``down``) or failed during the read (``error``)
  (greenfin/replica.py).

Collected when scraped, from Redis and the database (so they hold whichever process did the work):

- ``greenfin_queue_depth{queue}``: jobs waiting in each rq queue;
- ``greenfin_jobs{kind,status}``: jobs by kind (the job function) and status;
- ``greenfin_ledger_last_checkpoint_age_seconds``: since the end of the last checkpointed UTC day;
- ``greenfin_ledger_verify_ok`` (1/0) and ``greenfin_ledger_verify_timestamp_seconds``: the last
  scheduled ``credit verify``.

The route is not public: it wants ``Authorization: Bearer <METRICS_TOKEN>``; without a configured
token it does not exist (404).
"""
from __future__ import annotations

import hmac
import logging
import os
import time
from datetime import datetime, time as dtime, timedelta, timezone
from typing import Iterable

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from greenfin import dates
from greenfin.security import PUBLIC, access

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("greenfin_http_requests", "HTTP requests answered", ["endpoint", "method", "status"])
HTTP_LATENCY = Histogram("greenfin_http_request_duration_seconds", "Time to answer an HTTP request", ["endpoint"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SCANS = Counter("greenfin_scans", "Public label scans by verdict", ["verdict"])
LEDGER_POSTINGS = Counter("greenfin_ledger_postings", "Eco-credit ledger postings written")
LABELS_DRAWN = Counter("greenfin_labels_drawn", "QR labels drawn by label-sheet jobs")
REPLICA_READS = Counter("greenfin_replica_reads", "Public reads served by the read replica")
REPLICA_FALLBACKS = Counter("greenfin_replica_fallbacks", "Public reads sent to the primary instead of the replica",
                            ["reason"])

bp = Blueprint("metrics", __name__)


def count_scan(verdict: str) -> None:
    SCANS.labels(verdict).inc()


def count_posting(n: int = 1) -> None:
    LEDGER_POSTINGS.inc(n)


def count_labels(n: int) -> None:
    LABELS_DRAWN.inc(n)


def count_replica_read(fallback_reason: str | None = None) -> None:
    """One public read: on the replica (no reason) or on the primary for ``fallback_reason``."""
    if fallback_reason is None:
        REPLICA_READS.inc()
    else:
        REPLICA_FALLBACKS.labels(fallback_reason).inc()


class ScrapeCollector:
    """The series read at scrape time from Redis and the database of ``app``."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterable:
        yield from self._queues()
        yield from self._database()

    def _queues(self) -> Iterable:
        from greenfin.jobs import redis_connection

        depth = GaugeMetricFamily("greenfin_queue_depth", "Jobs waiting in an rq queue", labels=["queue"])
        conn = redis_connection()
        if conn is not None:
            from rq import Queue

            try:
                for name in self.app.config["RQ_QUEUES"]:
                    depth.add_metric([name], Queue(name, connection=conn).count)
            except Exception as exc:  # Redis down: the series is absent, the alert on it fires
                log.warning("metrics: queue depth unavailable: %s", exc)
                return
        yield depth

    def _database(self) -> Iterable:
        from greenfin.job_model import Job
        from greenfin.extensions import db

        jobs = GaugeMetricFamily("greenfin_jobs", "Jobs by kind and status", labels=["kind", "status"])
        for kind, status, count in db.session.execute(
                select(Job.func, Job.status, func.count()).group_by(Job.func, Job.status)):
            jobs.add_metric([kind, status], count)
        yield jobs
        yield from self._ledger()

    def _ledger(self) -> Iterable:
        from greenfin.registry import contract

        credit = contract("credit")
        if credit is None:
            return
        heads = credit.published_heads(limit=1)
        if heads:
            day_end = datetime.combine(heads[-1].day + timedelta(days=1), dtime.min, timezone.utc)
            yield GaugeMetricFamily("greenfin_ledger_last_checkpoint_age_seconds",
                                    "Seconds since the end of the last checkpointed UTC day",
                                    value=(dates.utcnow() - day_end).total_seconds())
        verify = last_verify()
        if verify is not None:
            ok, at = verify
            yield GaugeMetricFamily("greenfin_ledger_verify_ok", "1 when the last scheduled credit verify passed",
                                    value=1 if ok else 0)
            yield GaugeMetricFamily("greenfin_ledger_verify_timestamp_seconds",
                                    "When the last scheduled credit verify finished", value=at.timestamp())


def last_verify():
    """(ok, finished_at) of the last finished scheduled ledger verification, or None."""
    from greenfin.job_model import Job
    from greenfin.extensions import db
    from greenfin.schedule import ScheduleRun

    row = db.session.execute(
        select(Job.result, Job.finished_at).join(ScheduleRun, ScheduleRun.job_id == Job.id)
        .where(ScheduleRun.schedule == "credit-verify", Job.status == "finished")
        .order_by(ScheduleRun.occurrence.desc()).limit(1)).first()
    if row is None or not row.result:
        return None
    return bool(row.result.get("ok")), row.finished_at


def exposition(app: Flask) -> bytes:
    """This process's (or, in multiprocess mode, every process's) counters, then the scraped series."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    scraped = CollectorRegistry()
    scraped.register(ScrapeCollector(app))
    return generate_latest(counted) + generate_latest(scraped)


def _token_ok() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    scheme, _sep, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


@bp.route("/metrics")
@access(PUBLIC)  # no session: the scraper shows METRICS_TOKEN instead
def metrics():
    """Prometheus scrape endpoint (bearer METRICS_TOKEN)."""
    if not current_app.config.get("METRICS_TOKEN"):
        return jsonify(status=404, code="not_found", message=_("Metrics are not enabled (METRICS_TOKEN)."),
                       errors={}), 404
    if not _token_ok():
        response = jsonify(status=401, code="unauthorized", message=_("A valid metrics token is required."),
                           errors={"Authorization": [_("Bearer METRICS_TOKEN expected")]})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return Response(exposition(current_app._get_current_object()), content_type=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count_request(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
            HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
            HTTP_LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
