"""``flask unlock-user USERNAME``: lift the sign-in waits on an account."""
from __future__ import annotations

import click
from flask import g
from flask.cli import with_appcontext
from sqlalchemy import func, select

from greenfin.auth import throttle
from greenfin.core.models import User
from greenfin.extensions import db
from greenfin.uow import command_unit_of_work


@click.command("unlock-user")
@click.argument("username")
@with_appcontext
@command_unit_of_work
def unlock_user_command(username):
    """Lift every sign-in wait on USERNAME's account and forget its failures (audited)."""
    g.actor_label = "cli"
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        click.echo(f"error: username: no user {username!r}", err=True)
        raise SystemExit(2)
    networks = throttle.unlock_account(user)
    click.echo(f"user {user.username} unlocked ({networks} throttled network(s) cleared)")
