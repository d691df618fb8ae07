"""Structured logs: one JSON object a line, with the request id (or the job id), when LOG_FORMAT=json.

The lines are written by python-json-logger; this module only names the fields (``time``, ``level``,
``logger``, ``message``, ``request_id`` and ``path`` in a request, ``job_id`` in a job, ``status``,
``duration_ms`` and ``method`` of an access line, ``exception``; any ``extra=`` a caller passes).

Every process built by ``create_app`` reads LOG_FORMAT: gunicorn workers (gunicorn.conf.py
defaults it to json, and formats gunicorn's own lines with :class:`JsonFormatter` too), rq workers
(``make serve`` starts them with json) and CLI commands. rq adds no handler of its own when the
root logger has one, so its lines come out as JSON too.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, g, has_app_context, has_request_context, request
from pythonjsonlogger import json as jsonlogger


class JsonFormatter(jsonlogger.JsonFormatter):
    """python-json-logger with GreenFin's field names, UTC times and the request or job it ran in."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(["asctime", "levelname", "name", "message"], json_ensure_ascii=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                                        "exc_info": "exception"})

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        if has_request_context():
            log_data["request_id"] = g.get("request_id")
            log_data["path"] = request.path
        if has_app_context() and g.get("job_id"):
            log_data["job_id"] = g.job_id  # a line logged while a job runs (rq worker or inline)


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
