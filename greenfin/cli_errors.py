"""How a command-line command reports a domain error: once, then exit status 2."""
from __future__ import annotations

from typing import NoReturn

import click

from greenfin.errors import DomainError
from greenfin.uow import rollback


def error_lines(exc: DomainError) -> list[str]:
    """``error: <summary>`` and one indented line per bad field (each detail once)."""
    return [f"error: {exc.summary}"] + [f"  {field}: {'; '.join(messages)}" for field, messages in exc.errors.items()]


def fail(exc: DomainError) -> NoReturn:
    """Undo the unit of work, print the error to stderr and exit with status 2."""
    rollback()
    for line in error_lines(exc):
        click.echo(line, err=True)
    raise SystemExit(2)
