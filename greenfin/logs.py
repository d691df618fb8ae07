"""Structured logs: one JSON object a line, with the request id (or the job id), when LOG_FORMAT=json.

Every process built by ``create_app`` reads LOG_FORMAT: gunicorn workers (gunicorn.conf.py
defaults it to json), rq workers (``make serve`` starts them with json) and CLI commands. rq
adds no handler of its own when the root logger has one, so its lines come out as JSON too.
"""
from __future__ import annotations

import json
import logging
import time

from flask import Flask, g, has_app_context, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["path"] = request.path
        if has_app_context() and g.get("job_id"):
            entry["job_id"] = g.job_id  # a line logged while a job runs (rq worker or inline)
        for key in ("status", "duration_ms", "method"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def init_logging(app: Flask) -> None:
    level = app.config.get("LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.handlers[:] = [handler]
        root.setLevel(level)
    elif not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    access_log = logging.getLogger("greenfin.access")

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if app.config.get("LOG_REQUESTS"):
            duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            access_log.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"status": response.status_code, "duration_ms": round(duration, 1),
                                   "method": request.method})
        return response
