"""Start a production-shaped stack on this machine: gunicorn web workers and rq workers.

Used by the multi-process tests and by ``bench/load.py``; it is not needed to run
the platform (``make serve`` does that). Processes get their configuration from the
environment, exactly as in production.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not become ready")


class Stack(str):
    """The base URL of a running stack, which also knows its processes."""

    web: subprocess.Popen
    rq_workers: list[subprocess.Popen]  # every worker started, killed ones included
    start_rq_worker: Callable[[], subprocess.Popen]  # one more worker (e.g. for one a test killed)


@contextmanager
def running_stack(database_url: str, redis_url: str, instance: Path, web_workers: int = 2, rq_workers: int = 2,
                  threads: int = 4, extra_env: dict | None = None) -> Iterator[Stack]:
    """Yield the base URL of ``web_workers`` gunicorn processes, with ``rq_workers`` rq workers running.

    Each process leads its own process group, so a test can kill a worker (``kill_rq_worker``).
    """
    port = free_port()
    # Rate limits off: every test and benchmark client comes from 127.0.0.1.
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "GREENFIN_INSTANCE": str(instance),
           "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING", "LOG_REQUESTS": "0", "RATELIMIT_ENABLED": "0",
           **(extra_env or {})}
    env.pop("GREENFIN_TEST_DB", None)
    procs: list[subprocess.Popen] = []  # every process started, stopped at the end
    workers: list[subprocess.Popen] = []
    logs = instance / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def start_rq_worker() -> subprocess.Popen:
        proc = subprocess.Popen(
            [str(BIN / "flask"), "--app", "greenfin", "rq", "worker"], cwd=ROOT, env=env,
            stdout=open(logs / f"rq-{len(workers)}.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        workers.append(proc)
        return proc

    try:
        for _ in range(rq_workers):
            start_rq_worker()
        procs.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(web_workers),
             "--threads", str(threads), "-b", f"127.0.0.1:{port}", "greenfin:create_app()"],
            cwd=ROOT, env=env, stdout=open(logs / "gunicorn.log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True))
        url = Stack(f"http://127.0.0.1:{port}")
        url.web, url.rq_workers, url.start_rq_worker = procs[-1], workers, start_rq_worker
        wait_until_ready(url)
        yield url
    finally:
        _stop(procs)


def _children(worker: subprocess.Popen) -> list[int]:
    """Process ids of a worker's children: its work horse while it runs a job, and rq's scheduler."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == worker.pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def kill_rq_worker(worker: subprocess.Popen, with_work_horse: bool = True) -> list[int]:
    """SIGKILL an rq worker as a crash would; returns the ids of its children.

    rq runs each work horse in a process group of its own (``os.setpgrp``), so killing the
    worker's group leaves the horse running the job; ``with_work_horse`` kills the horse too.
    """
    children = _children(worker)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    for pid in children if with_work_horse else []:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return children


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM every process group, give them 10 s, then SIGKILL whatever is left (work horses too)."""
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # an idle rq worker may sit in a blocking Redis call
        except ProcessLookupError:
            pass
        proc.wait()


def http(method: str, url: str, token: str | None = None, json_body=None, headers: dict | None = None,
         timeout: float = 30) -> tuple[int, bytes, dict]:
    """A small HTTP client for the stack (standard library only): (status, body, headers)."""
    import json as jsonlib
    import urllib.error

    data = None
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        data = jsonlib.dumps(json_body).encode()
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)
