"""``flask --app greenfin gep ...``: import parcels, load the price tables, compute, report."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import g
from marshmallow import ValidationError

from greenfin.cli_errors import fail as _fail
from greenfin.errors import DomainError, ValidationFailed
from greenfin.extensions import db
from greenfin.uow import CommandGroup, units

gep_cli = CommandGroup("gep", help="GEP (生态产品总值) accounting.")


@gep_cli.command("init-prices")
def init_prices_command():
    """Load the reference parameter and price versions (GF-2024, GF-2025) when absent."""
    from greenfin.gep import services

    g.actor_label = "cli"
    versions = services.install_reference_versions()
    for v in versions:
        click.echo(f"{v.code}: {len(v.parameters)} parameters and prices (base year {v.year})")


@gep_cli.command("import-parcels")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), help="Default: from the file name.")
def import_parcels_command(file: Path, fmt):
    """Create or update parcels and their GEP attributes from a CSV or GeoJSON FILE.

    Every bad row is reported with its line (CSV) or feature number (GeoJSON) and
    its reason; nothing of a bad row is stored, the good rows are. Exit status 1
    when any row was bad.
    """
    from greenfin.gep import importer

    g.actor_label = "cli"
    text = file.read_text(encoding="utf-8-sig")
    try:
        for _ in units([file]):  # committed before a bad row's exit status 1: the good rows stay
            report = importer.import_parcels(text, fmt or importer.detect_format(file.name, text))
    except DomainError as exc:
        _fail(exc)
    for where, reason in report.errors:
        click.echo(f"{file.name}: {where}: {reason}", err=True)
    click.echo(f"{report.created} parcels created, {report.updated} updated, {len(report.errors)} rows rejected")
    if report.errors:
        sys.exit(1)


@gep_cli.command("compute")
@click.option("--year", type=int, required=True)
@click.option("--prices", "version_code", help="Price version code (default: the newest for the year).")
@click.option("--township", help="Only one township (code or name).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="With rq: follow the job's progress until it ends.")
@click.option("--timeout", type=int, default=3600, show_default=True, help="Stop following after this many seconds.")
def compute_command(year, version_code, township, wait, timeout):
    """Account every parcel of the district for YEAR as a background job (rq with REDIS_URL)."""
    from greenfin.job_model import Job
    from greenfin.gep import services
    from greenfin.gep.schemas import GepRunSchema

    g.actor_label = "cli"
    try:
        # What POST /api/v1/gep/runs checks, checked before anything is queued.
        try:
            GepRunSchema().load({"year": year, "prices": version_code, "township": township})
        except ValidationError as exc:
            errors = {field: [str(m) for m in messages] for field, messages in exc.normalized_messages().items()}
            raise ValidationFailed("Invalid input", errors) from None
        for _ in units([year]):  # committed here: the job is dispatched before it is followed below
            job_id = services.start_gep_run(year, version_code, township).id
    except DomainError as exc:
        _fail(exc)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    click.echo(f"job {job_id}: {job.status} ({job.progress}%) - /jobs/{job_id}")
    last, deadline = None, time.monotonic() + timeout
    while wait and job.status in ("queued", "started"):
        if time.monotonic() > deadline:
            click.echo(f"still {job.status} after {timeout} s; follow it at /jobs/{job_id}")
            return
        time.sleep(1)
        db.session.rollback()  # end the read transaction: see the worker's commits
        job = db.session.get(Job, job_id)
        if (job.status, job.progress, job.message) != last:
            last = (job.status, job.progress, job.message)
            click.echo(f"  {job.status} {job.progress:3d}% {job.message or ''}")
    if job.status == "finished" and job.result:
        r = job.result
        click.echo(f"{r['parcels']} parcels, {r['created']} new accounts, {r['unchanged']} unchanged; "
                   f"GEP {year} = {r['total']} CNY (prices {r['version']})")
    elif job.status == "failed":
        click.echo(f"failed: {job.error}", err=True)
        sys.exit(1)


@gep_cli.command("report")
@click.option("--year", type=int, required=True)
@click.option("--township", help="Township code or name; the district when omitted.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report_command(year, township, out: Path):
    """Write the GEP report PDF of a township (or the district) with charts."""
    from greenfin.gep import services

    try:
        code = services.find_township(township).code if township else None
        data = services.report_pdf(year, code)
    except DomainError as exc:
        _fail(exc)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data):,} bytes)")
