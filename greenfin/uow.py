"""The one commit point: one unit of work per request, CLI command or job (Indico's ``RH.process``).

Handlers (API MethodViews, page views, CLI commands) call a service verb and return; they never
commit. ``create_app`` wraps every view in ``unit_of_work``: when the view answers below 400 the
session is committed once and the jobs the request queued are dispatched after that commit
(``greenfin.extensions.commit``); an error answer or an exception rolls everything back, jobs
included (a view marked ``keep_work_on(404)`` commits its 404 answers too). CLI commands get the
same wrapper through ``CommandGroup``; jobs commit in ``greenfin.jobs``.

API writes may carry an ``Idempotency-Key`` header: the key and the answer are stored in the same
transaction as the work (``greenfin.idempotency``), so a retried POST (a repayment, a capture...)
is answered from the record instead of being done twice.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

import click
from flask import Flask, current_app, request
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from greenfin.extensions import commit, db, rollback


def unit_of_work(view: Callable) -> Callable:
    """Run a Flask view as one unit of work: commit on success, roll back on error or exception."""

    @wraps(view)
    def run(*args: Any, **kwargs: Any):
        from greenfin import idempotency

        key = idempotency.request_key(view)
        if key is not None:
            answered = idempotency.replay(key)
            if answered is not None:
                rollback()
                return answered
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            rollback()
            raise
        if response.status_code >= 400 and response.status_code not in getattr(view, "kept_statuses", ()):
            rollback()
            return response
        if key is not None:
            idempotency.remember(key, response)
        try:
            commit()
        except IntegrityError:
            rollback()
            # Another request with the same key committed first: answer as it did.
            answered = idempotency.replay(key) if key is not None else None
            if answered is None:
                raise
            return answered
        return response

    run.unit_of_work = True
    return run


def keep_work_on(*statuses: int) -> Callable:
    """Mark a view whose answers with these error statuses still commit its work: the public scan
    answers 404 to a code it does not recognise, yet the scan is recorded."""

    def mark(view: Callable) -> Callable:
        view.kept_statuses = frozenset(statuses)
        return view

    return mark


def wrap_views(app: Flask) -> None:
    """Make every view of the app (static files aside) a unit of work."""
    import greenfin.idempotency  # noqa: F401  (its table belongs to every app)

    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "unit_of_work", False):
            app.view_functions[endpoint] = unit_of_work(view)


def flush_for_response() -> None:
    """Before an API answer is serialised: write the work (database defaults and ids appear, an
    integrity error is raised here and answered as such) and, for writes, reload what the
    database holds, as the answer after a commit would show."""
    db.session.flush()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        db.session.expire_all()


def command_unit_of_work(callback: Callable) -> Callable:
    """A CLI command as one unit of work: commit when it ends normally (exit code 0)."""

    @wraps(callback)
    def run(*args: Any, **kwargs: Any):
        try:
            result = callback(*args, **kwargs)
        except click.exceptions.Exit as exc:
            (commit if exc.exit_code == 0 else rollback)()
            raise
        except SystemExit as exc:
            (commit if exc.code in (None, 0) else rollback)()
            raise
        except BaseException:
            rollback()
            raise
        commit()
        return result

    return run


class CommandGroup(AppGroup):
    """Flask's ``AppGroup`` whose commands each run as one unit of work."""

    def command(self, *args: Any, **kwargs: Any):
        if len(args) == 1 and callable(args[0]) and not kwargs:  # used as ``@group.command``
            return super().command()(command_unit_of_work(args[0]))
        register = super().command(*args, **kwargs)

        def decorator(callback: Callable):
            return register(command_unit_of_work(callback))

        return decorator
