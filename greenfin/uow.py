"""The one commit point: one unit of work per request, CLI command or job (Indico's ``RH.process``).

Handlers (API MethodViews, page views, CLI commands) call a service verb and return; they never
commit. ``create_app`` wraps every view in ``unit_of_work``: when the view answers below 400 the
session is committed once and the jobs the request queued are dispatched after that commit
(``commit`` below); an error answer or an exception rolls everything back (``rollback``), jobs
included (a view marked ``keep_work_on(404)`` commits its 404 answers too). CLI commands get the
same wrapper through ``CommandGroup``; a command that must commit part of its work before it ends
(an import in chunks, a command that waits for the job it started) does it through ``units``, never
by calling ``commit()`` itself. Jobs commit in ``greenfin.jobs``.

API writes may carry an ``Idempotency-Key`` header: the key and the answer are stored in the same
transaction as the work (``greenfin.idempotency``), so a retried POST (a repayment, a capture...)
is answered from the record instead of being done twice.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, Iterable, Iterator, TypeVar

import click
from flask import Flask, current_app, request
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from greenfin.extensions import db

T = TypeVar("T")
_HOOKS = "greenfin_uow_hooks"


def on_outcome(app: Flask, *, committed: Callable[[], None], rolled_back: Callable[[], None]) -> None:
    """Let infrastructure act after each commit and rollback of ``app``'s units of work.

    ``greenfin.jobs`` registers here (dispatch the queued jobs after a commit, forget them after a
    rollback), so this module needs nothing of the job machinery and the two do not import each other.
    """
    hooks = app.extensions.setdefault(_HOOKS, [])
    if (committed, rolled_back) not in hooks:
        hooks.append((committed, rolled_back))


def commit() -> None:
    """The one commit point of a request, command or job: commit, then dispatch queued jobs.

    Jobs queued with ``greenfin.jobs.enqueue`` during the unit of work are sent only after the
    commit succeeded, so a worker never looks for a row that is not committed yet (Indico's pattern).
    Handlers never call it: the wrappers below do.
    """
    db.session.commit()
    for committed, _rolled_back in current_app.extensions.get(_HOOKS, ()):
        committed()


def rollback() -> None:
    """Undo the unit of work, queued jobs included."""
    db.session.rollback()
    for _committed, rolled_back in current_app.extensions.get(_HOOKS, ()):
        rolled_back()


def units(items: Iterable[T], size: int = 1) -> Iterator[list[T]]:
    """Yield ``items`` in lists of ``size``, committing after the caller has handled each list.

    For a CLI command whose work must be committed in parts (an import too large for one
    transaction) or before it goes on (it waits for the job it started: the job is dispatched by
    the commit)::

        for chunk in units(rows, 500):
            import_rows(chunk)          # committed when the loop asks for the next chunk

    A chunk whose handling raises is not committed (the command's wrapper rolls it back); the
    chunks before it stay committed.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            commit()
            chunk = []
    if chunk:
        yield chunk
        commit()


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
