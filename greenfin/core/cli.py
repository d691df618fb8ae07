"""Core commands: seed-demo, create-user, ``db grant-app-role`` and ``db partitions``."""
from __future__ import annotations

import random

import click
from flask import g
from flask.cli import with_appcontext
from sqlalchemy import select

from greenfin.cli_errors import fail
from greenfin.core import partitions, services
from greenfin.core.db_roles import grant_app_role
from greenfin.core.models import Party
from greenfin.errors import DomainError, ValidationFailed
from greenfin.extensions import db
from greenfin.security import ROLES
from greenfin.uow import command_unit_of_work, rollback


@click.command("seed-demo")
@with_appcontext
@command_unit_of_work
def seed_demo_command():
    """Build the demo district (idempotent: seeds nothing when parties exist) and print its accounts."""
    from greenfin import installed_features

    from greenfin.core.seed import demo_accounts

    g.actor_label = "seed-demo"
    if db.session.scalar(select(Party.id).limit(1)) is not None:
        click.echo("Demo data already present; nothing to seed.")
    else:
        rng = random.Random(2026)
        context: dict = {}
        for feature in installed_features():
            if hasattr(feature, "seed_demo"):
                context[feature.__name__] = feature.seed_demo(rng, context)
                db.session.flush()
        click.echo("Demo district seeded.")
    accounts = demo_accounts()  # on every run: a newcomer's second `make demo` shows them too
    if not accounts:
        click.echo("No demo account signs in with its demo password any more.")
        return
    click.echo("Sign in at http://127.0.0.1:5000/login with:")
    for username, password, role in accounts:
        click.echo(f"  {role:13s} {username:11s} {password}")


@click.command("create-user")
@with_appcontext
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--party-id", type=int)
@click.password_option()
@command_unit_of_work
def create_user_command(username, role, party_id, password):
    """Create a user (the first admin of a new installation)."""
    g.actor_label = "cli"
    try:
        services.ensure_townships()
        services.create_user({"username": username, "role": role, "party_id": party_id, "password": password})
    except ValidationFailed as exc:
        rollback()
        for field, messages in exc.errors.items():
            click.echo(f"error: {field}: {'; '.join(messages)}", err=True)
        raise SystemExit(2)
    click.echo(f"user {username} created")


@click.command("grant-app-role")
@with_appcontext
@click.argument("role")
@command_unit_of_work
def grant_app_role_command(role):
    """Grant ROLE what the application needs (run as the tables' owner, after every upgrade)."""
    g.actor_label = "cli"
    try:
        summary = grant_app_role(role)
    except DomainError as exc:
        fail(exc)
    click.echo(f"granted {role}: {summary['tables']} tables, append-only (SELECT, INSERT): "
               f"{', '.join(summary['append_only']) or 'none'}")


@click.group("partitions")
def partitions_group():
    """Monthly partitions of the scan tables (PostgreSQL): create ahead, detach old months."""


@partitions_group.command("ensure")
@with_appcontext
@click.option("--ahead", default=partitions.AHEAD, show_default=True, type=int, help="months ahead of this one")
@command_unit_of_work
def partitions_ensure_command(ahead):
    """Create this month's and the next months' partitions where missing."""
    g.actor_label = "cli"
    try:
        created = partitions.ensure_partitions(ahead)
    except DomainError as exc:
        fail(exc)
    click.echo(f"created {len(created)} partition(s){': ' + ', '.join(created) if created else ''}")


@partitions_group.command("detach")
@with_appcontext
@click.option("--before", required=True, help="YYYY-MM: detach every month before this one")
@command_unit_of_work
def partitions_detach_command(before):
    """Detach old months (run as the tables' owner: DATABASE_URL=$MIGRATION_DATABASE_URL)."""
    g.actor_label = "cli"
    try:
        detached = partitions.detach_partitions(before)
    except DomainError as exc:
        fail(exc)
    click.echo(f"detached {len(detached)} partition(s){': ' + ', '.join(detached) if detached else ''}")
    for name in detached:
        click.echo(f"archive with: pg_dump --format=custom --table={name} ... ; then DROP TABLE {name}")


@partitions_group.command("list")
@with_appcontext
def partitions_list_command():
    """Every monthly partition and whether it is attached."""
    for partition in partitions.list_partitions():
        state = "attached" if partition.attached else "detached"
        if partition.detach_pending:
            state = "detach pending"
        click.echo(f"{partition.table:24s} {partition.month:%Y-%m} {partition.name:32s} {state}")
