"""How a command-line command reports a domain error: once, then exit status 2."""
from __future__ import annotations

from typing import NoReturn

import click

from greenfin.errors import DomainError
from greenfin.extensions import rollback


def error_lines(exc: DomainError) -> list[str]:
    """``error: <message>`` and one indented line per bad field.

    ``ValidationFailed`` appends the field details to its message ("Invalid input (cpr: ...)");
    they are printed once, on their own lines, not again after the message.
    """
    details = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in exc.errors.items())
    message = exc.message
    if details and message.endswith(f" ({details})"):
        message = message[: -len(details) - 3]
    return [f"error: {message}"] + [f"  {field}: {'; '.join(messages)}" for field, messages in exc.errors.items()]


def fail(exc: DomainError) -> NoReturn:
    """Undo the unit of work, print the error to stderr and exit with status 2."""
    rollback()
    for line in error_lines(exc):
        click.echo(line, err=True)
    raise SystemExit(2)
