"""``flask --app greenfin compensation ...``: run, approve and report compensation schemes."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask import g

from greenfin.cli_errors import fail
from greenfin.errors import DomainError
from greenfin.uow import CommandGroup, units

compensation_cli = CommandGroup("compensation", help="Eco-compensation schemes and runs (生态补偿).")


def _scheme(code: str, version):
    from greenfin.compensation import services

    return services.find_scheme(code, version)


def _as_user(username: str) -> None:
    from sqlalchemy import select

    from greenfin.core.models import User
    from greenfin.errors import NotFound
    from greenfin.extensions import db

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or user.role not in ("admin", "regulator"):
        raise NotFound(f"no admin or regulator named {username}")
    g.user = user


@compensation_cli.command("run")
@click.option("--scheme", "code", required=True, help="Scheme code.")
@click.option("--version", type=int, help="Scheme version (default: the newest).")
@click.option("--period", required=True, help="The year (YYYY).")
@click.option("--by", "username", help="The user starting the run (maker).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="With rq: follow the job's progress until it ends.")
@click.option("--timeout", type=int, default=3600, show_default=True, help="Stop following after this many seconds.")
def run_command(code, version, period, username, wait, timeout):
    """Start (or find) the run of a scheme for a period; the job computes it."""
    from greenfin.compensation import services
    from greenfin.extensions import db
    from greenfin.job_model import Job

    g.actor_label = "cli"
    try:
        for _ in units([code]):  # committed here, so the job runs and the run can be read back
            if username:
                _as_user(username)
            run, job = services.start_run(_scheme(code, version).id, period)
            run_id, job_id = run.id, job.id if job else None
    except DomainError as exc:
        fail(exc)
    db.session.expire_all()
    deadline = time.monotonic() + timeout
    while wait and job_id:
        state = db.session.get(Job, job_id)
        if state.status not in ("queued", "started"):
            if state.status == "failed":
                click.echo(f"failed: {state.error}", err=True)
                raise SystemExit(1)
            break
        if time.monotonic() > deadline:
            click.echo(f"still {state.status} after {timeout} s; follow it at /jobs/{job_id}")
            break
        click.echo(f"  {state.status} {state.progress:3d}% {state.message or ''}")
        time.sleep(1)
        db.session.rollback()  # end the read transaction: see the worker's commits
    run = services.get_run(run_id)
    click.echo(f"run {run.id}: {run.scheme.label} {run.period} {run.status}, "
               f"{len(run.allocations)} rows, total {run.total:.2f} CNY" + ("" if job_id else " (existing run)"))


@compensation_cli.command("approve")
@click.argument("run_id", type=int)
@click.option("--by", "username", required=True, help="The approving user (checker; not the maker).")
def approve_command(run_id, username):
    """Approve a computed run (maker-checker)."""
    from greenfin.compensation import services

    try:
        _as_user(username)
        run = services.approve_run(services.get_run(run_id))
    except DomainError as exc:
        fail(exc)
    click.echo(f"run {run.id} approved: {run.total:.2f} CNY in {len(run.allocations)} rows")


@compensation_cli.command("report")
@click.argument("run_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the payment CSV here.")
def report_command(run_id, out):
    """Print a run's allocation table; ``--out`` writes the payment file of an approved run."""
    from greenfin.compensation import services

    try:
        run = services.get_run(run_id)
        click.echo(f"{run.scheme.label} {run.period} {run.status} total {run.total:.2f}")
        for row in run.allocations:
            click.echo(f"{row.line:4d} {row.payer or '':10s} -> {row.payee:12s} {row.amount:>16.2f}")
        if out:
            out.write_text(services.payment_csv(run), encoding="utf-8")
            click.echo(f"payment file: {out}")
    except DomainError as exc:
        fail(exc)


@compensation_cli.command("import-monitoring")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_monitoring_command(file: Path):
    """Import water-quality monitoring rows from a CSV FILE (station,date,indicator,value)."""
    from greenfin.compensation import services

    g.actor_label = "cli"
    try:
        result = services.import_monitoring(file.read_text(encoding="utf-8-sig"))
    except DomainError as exc:
        fail(exc)
    click.echo(f"{result['added']} rows added, {result['skipped']} already held")



@compensation_cli.command("damage")
@click.option("--reference", required=True, help="The incident's reference, e.g. the penalty notice number.")
@click.option("--occurred-on", "occurred_on", required=True, help="The date it occurred (YYYY-MM-DD).")
@click.option("--parcel", "parcels", multiple=True, required=True, help="An affected parcel's code (repeat for more).")
@click.option("--area-ha", "area_ha", required=True, help="Affected area (ha), at most the parcels' area.")
@click.option("--years", "years", required=True, help="Restoration period (years).")
@click.option("--service", "service_codes", multiple=True, required=True,
              help="An affected GEP service's code, e.g. carbon_sequestration (repeat for more).")
@click.option("--party", help="The responsible party (unified social credit code, resident ID number or id): posts the penalty's points.")
@click.option("--as", "username", help="The acting admin or regulator (recorded in the audit log).")
def damage_command(reference, occurred_on, parcels, area_ha, years, service_codes, party, username):
    """Value an ecological damage incident as lost GEP and record it (with --party, post the penalty)."""
    from greenfin.compensation import services

    g.actor_label = "cli"
    try:
        if username:
            _as_user(username)
        incident = services.value_damage({  # committed by the command's wrapper
            "reference": reference, "occurred_on": occurred_on, "parcel_codes": list(parcels),
            "area_ha": area_ha, "restoration_years": years, "services": list(service_codes), "party": party})
    except DomainError as exc:
        fail(exc)
    click.echo(f"incident {incident.id}: {reference} lost GEP {incident.value:,.2f} CNY, "
               + (f"penalty posting {incident.posting_id}" if incident.posting_id
                  else "no penalty posting (no responsible party)"))


assessment_cli = CommandGroup("assessment", help="Township assessment (考核) on GEP and department indicators.")


@assessment_cli.command("score")
@click.option("--year", required=True, help="The year to score (YYYY).")
def score_command(year):
    """Score every township for a year: rank, change on the year before, alerts."""
    from greenfin.compensation import services

    g.actor_label = "cli"
    try:
        scored = services.score_year(year)
        new_alerts = services.alerts(int(year))
    except DomainError as exc:
        fail(exc)
    for s in scored:
        change = "" if s.change is None else f" ({s.change:+.2f})"
        click.echo(f"{s.rank:3d} {s.township_code:12s} {s.score:8.2f}{change}")
    for a in new_alerts:
        click.echo(f"alert: {a.township_code} quantity-effect GEP fell by {-a.figure:,.2f} CNY")


@assessment_cli.command("exit-audit")
@click.option("--township", required=True)
@click.option("--start", "start_year", required=True, type=int)
@click.option("--end", "end_year", required=True, type=int)
@click.option("--official", required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def exit_audit_command(township, start_year, end_year, official, out: Path):
    """Write the exit-audit PDF of an official's tenure in a township."""
    from greenfin.compensation import services
    from greenfin.compensation.pdf import exit_audit_pdf
    from greenfin.compensation.views import township_names

    try:
        audit = services.exit_audit(township, start_year, end_year, official)
    except DomainError as exc:
        fail(exc)
    data = exit_audit_pdf(audit, township_names().get(township, township))
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data):,} bytes)")
