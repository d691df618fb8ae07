"""The rq worker: short heartbeats and a watchdog, so a job whose worker died is retried within a minute.

rq already knows abandoned jobs: while a job runs, its worker refreshes the job's entry in the
queue's ``StartedJobRegistry`` (every ``job_monitoring_interval``), and the registry's ``cleanup``
re-queues an entry whose time ran out (a retry left, rq's ``Retry``) or fails it. Out of the box
that takes 13 minutes: the entry lives 60 s past the last heartbeat and the cleanup runs every
10 minutes, and only in idle workers. Here, with ``h = JOB_HEARTBEAT_SECONDS`` (5):

- the worker refreshes the entry every ``h`` seconds and it expires ``3h`` after the last refresh;
- every worker, idle or busy with a job, runs rq's registry maintenance every ``2h`` seconds
  (a Redis lock lets one worker at a time clean a queue);
- the cleanup calls the job's failure callback, ``worker_stopped``, which puts the ``jobs`` row back
  to "queued" with progress 0 and marks it interrupted: its page and ``/api/v1/jobs/<id>`` read
  "retrying after a worker stopped" until the retry ends.

A job is so re-queued at most ``3h + 2 × 2h`` (35 s) after its worker died, as long as one worker
of its queue lives. The retry is an ordinary attempt: it counts against ``JOB_RETRIES``, waits for
an attempt still running (a work horse that outlived its worker; ``greenfin.jobs``) and does nothing
when that attempt finished the job, so the job's effects happen once.
"""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup
from rq import Worker
from rq.exceptions import AbandonedJobError

from greenfin.extensions import db
from greenfin.jobs import mark_worker_stopped, redis_connection


class GreenfinWorker(Worker):
    """rq's forking worker with a short job heartbeat and registry maintenance while busy too."""

    heartbeat_grace = 10  # seconds a job's entry outlives the heartbeat interval (make_worker: 2h)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        # rq gives the job's entry interval + 60 s; a dead worker is noticed sooner with interval + grace.
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(job.timeout - working_time, interval)
        return int(interval) + self.heartbeat_grace

    def maintain_heartbeats(self, job, execution):
        super().maintain_heartbeats(job, execution)
        if self.should_run_maintenance_tasks:  # rq runs them only between jobs
            self.clean_registries()


def worker_stopped(job, connection, exc_type, exc_value, traceback) -> None:
    """rq's failure callback: for an abandoned job (its worker died), update the ``jobs`` row.

    It runs where rq cleans the registry: a worker, inside the app context of ``flask rq worker``.
    Other failures were recorded by the attempt itself (``greenfin.jobs.run_job``).
    """
    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        mark_worker_stopped(job.id, retrying=bool(job.retries_left))


def make_worker(queues: list[str], connection) -> GreenfinWorker:
    beat = current_app.config["JOB_HEARTBEAT_SECONDS"]
    # An idle rq worker blocks on its queues for worker_ttl - 15 s between maintenance checks.
    worker = GreenfinWorker(queues, connection=connection, job_monitoring_interval=beat,
                            maintenance_interval=2 * beat, worker_ttl=2 * beat + 15)
    worker.heartbeat_grace = 2 * beat
    return worker


def _fresh_pools_after_fork(engines) -> None:
    """A work horse must not share the worker's database connections (the watchdog uses some)."""
    os.register_at_fork(after_in_child=lambda: [engine.dispose(close=False) for engine in engines])


rq_cli = AppGroup("rq", help="rq workers on Redis.")


@rq_cli.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker_command(queues, burst):
    """Start an rq worker: flask --app greenfin rq worker [high default low]."""
    conn = redis_connection()
    if conn is None:
        raise click.UsageError("REDIS_URL is not set: jobs run inline, no worker is needed")
    names = list(queues) or current_app.config["RQ_QUEUES"]
    _fresh_pools_after_fork(list(db.engines.values()))
    make_worker(names, conn).work(burst=burst, with_scheduler=True)
