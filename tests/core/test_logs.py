"""Structured logs: JSON lines from gunicorn and from the rq workers ``make serve`` starts."""
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import g

from greenfin.logs import JsonFormatter
from tests.conftest import REDIS_URL, using_redis

ROOT = Path(__file__).resolve().parent.parent.parent


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no log line"
    return [json.loads(line) for line in lines]  # fails on any plain-text line


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_serve_starts_web_rq_workers_and_scheduler_with_json_logs(tmp_path):
    """``make serve`` with stand-ins for flask and gunicorn: what each process is started with."""
    for name, script in (("flask", 'echo "flask LOG_FORMAT=${LOG_FORMAT:-unset} $*" >> "$FAKE_OUT"'),
                         ("gunicorn", 'sleep 0.3; echo "gunicorn $*" >> "$FAKE_OUT"')):
        (tmp_path / name).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / name).chmod(0o755)

    def serve(**env) -> list[str]:
        out = tmp_path / "out.txt"
        out.unlink(missing_ok=True)
        environ = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "MAKEFLAGS", "MAKELEVEL")}
        subprocess.run(["make", "-s", "-o", "install", "-o", "translations", "serve", f"BIN={tmp_path}",
                        "RQ_WORKERS=2"], cwd=ROOT, check=True, timeout=60,
                       env={**environ, "FAKE_OUT": str(out), "DATABASE_URL": "x", "REDIS_URL": "y",
                            "MIGRATION_DATABASE_URL": "z", **env})
        return out.read_text().splitlines()

    started = serve()
    workers = [line for line in started if "rq worker" in line]
    assert workers == ["flask LOG_FORMAT=json --app greenfin rq worker high default low"] * 2
    assert started.count("flask LOG_FORMAT=json --app greenfin schedule run") == 1  # the scheduler, once
    assert [line for line in started if line.startswith("gunicorn")] == [
        'gunicorn -c gunicorn.conf.py -w 4 greenfin:create_app()']  # and the web processes
    workers = [line for line in serve(LOG_FORMAT="text") if "rq worker" in line]
    assert workers == ["flask LOG_FORMAT=text --app greenfin rq worker high default low"] * 2  # an explicit choice wins


def test_rq_worker_logging_is_json_under_log_format_json(tmp_path):
    """What ``flask rq worker`` sets up, without Redis: the app's JSON handler, then rq's own set-up."""
    code = """
import logging
from rq.logutils import setup_loghandlers
from greenfin import create_app
app = create_app()
setup_loghandlers("INFO", name="rq.worker")  # as Worker.work does
setup_loghandlers("INFO", name="rq.job")
logging.getLogger("rq.worker").info("*** Listening on high, default, low...")
logging.getLogger("rq.job").error("job failed")
with app.app_context():
    from flask import g
    g.job_id = "job-1"
    logging.getLogger("greenfin.jobs").warning("inside a job")
"""
    env = {**os.environ, "LOG_FORMAT": "json", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           "GREENFIN_INSTANCE": str(tmp_path)}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout + result.stderr)
    assert [(e["logger"], e["level"]) for e in lines] == [("rq.worker", "INFO"), ("rq.job", "ERROR"),
                                                          ("greenfin.jobs", "WARNING")]
    assert lines[2]["job_id"] == "job-1"


@pytest.mark.skipif(not using_redis(), reason="needs Redis (GREENFIN_TEST_REDIS=1)")
def test_real_rq_worker_logs_json(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "json", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           "REDIS_URL": REDIS_URL, "GREENFIN_INSTANCE": str(tmp_path)}
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "greenfin", "rq", "worker",
                             "--burst", "greenfin-log-test"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    messages = [e["message"] for e in json_lines(result.stdout + result.stderr)]
    assert any("Listening on greenfin-log-test" in m for m in messages)


def test_json_lines_name_the_job(app):
    record = logging.LogRecord("greenfin.jobs", logging.INFO, __file__, 1, "scoring %s rows", (200,), None)
    with app.app_context():
        assert "job_id" not in json.loads(JsonFormatter().format(record))
        g.job_id = "0f1e"
        entry = json.loads(JsonFormatter().format(record))
    assert entry["job_id"] == "0f1e" and entry["message"] == "scoring 200 rows"


def test_gunicorn_own_lines_are_json(tmp_path):
    """gunicorn.conf.py under LOG_FORMAT=json: the master's and the workers' lines (booting, a
    request through the app, shutting down) are all JSON objects."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "LOG_FORMAT": "json", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           "GREENFIN_INSTANCE": str(tmp_path), "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "LOG_REQUESTS": "1"}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
                               "greenfin:create_app()"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    lines = json_lines(output)
    loggers = {e["logger"] for e in lines}
    assert "gunicorn.error" in loggers and "greenfin.access" in loggers
    assert any(e["message"].startswith("Booting worker") for e in lines)
    access = next(e for e in lines if e["logger"] == "greenfin.access")
    assert access["path"] == "/healthz" and access["status"] == 200 and access["request_id"]
