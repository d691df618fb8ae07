"""``flask --app greenfin credit ...``: post, import, rate, review, verify, checkpoint, publish-due, expire-pending."""
from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import click
from flask import g

from credit import services
from credit.importer import IMPORT_COLUMNS, describe, parse_date
from credit.models import Rating
from greenfin.core.services import find_party
from greenfin.job_model import Job
from greenfin.errors import DomainError
from greenfin.extensions import db
from greenfin.uow import CommandGroup, rollback, units

credit_cli = CommandGroup("credit", help="Eco-credit ledger and ratings.")


def _cli_actor() -> None:
    g.actor_label = "cli"


@credit_cli.command("post")
@click.option("--party", "party_ref", required=True, help="party id, credit code or resident ID number")
@click.option("--rule", "rule_code", required=True)
@click.option("--key", required=True, help="idempotency key: the same key never posts twice")
@click.option("--date", "effective", help="effective date YYYY-MM-DD (default today)")
@click.option("--document", help="document reference (inspection record, penalty notice number)")
@click.option("--inspector")
def post_command(party_ref, rule_code, key, effective, document, inspector):
    """Post points for one party (negative and large positive ones wait for a regulator)."""
    _cli_actor()
    party = find_party(party_ref)
    if party is None:
        raise click.UsageError(f"no party {party_ref}")
    try:
        evidence = {k: v for k, v in {"document": document, "inspector": inspector}.items() if v}
        result = services.submit_posting(party.id, rule_code, idempotency_key=key, effective_date=parse_date(effective),
                                         evidence=evidence, source="cli")
    except ValueError as exc:
        raise click.UsageError(str(exc))
    except DomainError as exc:
        rollback()
        click.echo(f"error: {describe(exc)}", err=True)
        raise SystemExit(2)
    record = result.record
    state = "replayed " if result.replayed else ""
    click.echo(f"{state}{result.status}: {record.rule_code} {record.points:+d} for {party.name} (#{record.id})")


@credit_cli.command("import")
@click.option("--csv", "csv_file", required=True, type=click.File("rb"),
              help="CSV (columns: " + ", ".join(IMPORT_COLUMNS) + ") or JSON Lines with the same fields")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="default: from the file name or content")
@click.option("--wait/--no-wait", default=True, help="wait for the job and print its report (default)")
def import_command(csv_file, fmt, wait):
    """Bulk intake of inspection results and penalty notices: a job posts the file in chunks
    (inline without REDIS_URL); idempotent per row, so importing a file twice posts nothing."""
    _cli_actor()
    try:
        for (data,) in units([csv_file.read()]):  # committed here: the job is dispatched by the commit
            intake = services.start_intake(data, Path(csv_file.name).name, fmt=fmt)
            intake_id, job_id = intake.id, intake.job_id
    except DomainError as exc:
        rollback()
        click.echo(f"error: {describe(exc)}", err=True)
        raise SystemExit(1)
    if not wait:
        click.echo(f"intake {intake_id}: job {job_id}; its report: flask credit intake {intake_id}")
        return
    shown = None
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.status in ("finished", "failed"):
            break
        if job.progress != shown:
            click.echo(f"intake {intake_id}: {job.progress} % {job.message or ''}", err=True)
            shown = job.progress
        db.session.rollback()
        time.sleep(1)
    _report_intake(intake_id, job)


@credit_cli.command("intake")
@click.argument("intake_id", type=int)
def intake_command(intake_id):
    """The report of a bulk intake: refused lines with their reasons, then the counts."""
    intake = services.get_intake(intake_id)
    _report_intake(intake_id, db.session.get(Job, intake.job_id))


def _report_intake(intake_id: int, job: Job) -> None:
    if job.status in ("queued", "started"):
        click.echo(f"intake {intake_id}: job {job.id} {job.status}; follow it at /jobs/{job.id}")
        return
    intake = services.get_intake(intake_id)
    errors = list(db.session.scalars(services.intake_errors_query(intake_id)))
    for error in errors:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    click.echo(f"intake {intake_id}: posted {intake.posted}, pending review {intake.pending}, already imported "
               f"{intake.duplicate}, bad rows {intake.refused}")
    if job.status == "failed":
        click.echo(job.error or "", err=True)
        raise SystemExit(2)
    if errors:
        raise SystemExit(1)


@credit_cli.command("rate")
@click.option("--period", required=True, help="e.g. 2026-Q3")
def rate_command(period):
    """Rate every party for a period (an rq job with REDIS_URL, inline without)."""
    _cli_actor()
    try:
        for (code,) in units([period]):  # committed here: the job is dispatched before the report below
            run = services.start_rating_run(code)
            run_id, job_id = run.id, run.job_id
    except DomainError as exc:
        rollback()
        click.echo(f"error: {describe(exc)}", err=True)
        raise SystemExit(2)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    click.echo(f"rating run {run_id} for {period.upper()}: job {job_id} {job.status}"
               + (f", {job.result['rated']} rated" if job.result else ""))
    if job.status == "failed":
        click.echo(job.error or "", err=True)
        raise SystemExit(1)


def _load_heads(source: str) -> list:
    """Published heads from a saved JSON file or a URL (``GET /api/v1/credit/ledger/heads``)."""
    try:
        if urlparse(source).scheme in ("http", "https"):
            with urlopen(source, timeout=30) as response:  # noqa: S310 (http and https only)
                body = response.read().decode("utf-8")
        else:
            body = Path(source).read_text(encoding="utf-8")
        return services.parse_published_heads(json.loads(body))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # URLError is an OSError, JSONDecodeError a ValueError
        raise click.UsageError(f"--against {source}: {exc}")


@credit_cli.command("verify")
@click.option("--against", "against", metavar="FILE|URL",
              help="also check the ledger against heads published earlier (saved JSON or its URL)")
def verify_command(against):
    """Recompute every hash chain, cached balance and signed daily checkpoint; non-zero exit when broken."""
    heads = _load_heads(against) if against else None
    report = services.verify_ledger()
    click.echo(f"checked {report.postings} postings in {report.accounts} accounts, {report.checkpoints} checkpoints")
    mismatches = services.verify_against(heads) if heads is not None else []
    if heads is not None:
        click.echo(f"compared {len(heads)} published heads ({heads[0].day.isoformat()} to {heads[-1].day.isoformat()})")
    if report.ok and not mismatches:
        click.echo("ledger OK")
        return
    if mismatches:
        click.echo(f"first mismatching day: {mismatches[0]}", err=True)
    if report.first_broken_posting_id is not None:
        click.echo(f"first broken posting: {report.first_broken_posting_id}", err=True)
    for problem in mismatches[1:20]:
        click.echo(f"MISMATCH {problem}", err=True)
    for problem in report.problems[:20]:
        click.echo(f"BROKEN {problem}", err=True)
    raise SystemExit(1)


@credit_cli.command("checkpoint")
def checkpoint_command():
    """Record the ledger-wide chain head of every closed day (UTC) not yet checkpointed."""
    _cli_actor()
    made = services.checkpoint_ledger()
    for checkpoint in made:
        click.echo(f"{checkpoint.day.isoformat()} {checkpoint.head} ({checkpoint.posting_count} postings)")
    click.echo(f"{len(made)} checkpoint(s) added")


@credit_cli.command("review")
@click.option("--period", required=True, help="the computed ratings of this period, e.g. 2026-Q4")
@click.option("--approve", "decision", flag_value="approve", help="put them on public notice")
@click.option("--return", "decision", flag_value="return", help="send them back to be computed again")
@click.option("--note", default="", help="why they go back (required with --return)")
@click.option("--yes", is_flag=True, help="confirm: approving cannot be undone")
def review_command(period, decision, note, yes):
    """Approve or return every computed rating of a period at once (one audit event each)."""
    _cli_actor()
    if decision is None:
        click.echo("error: say --approve or --return", err=True)
        raise SystemExit(2)
    if decision == "approve" and not yes:
        click.echo("error: approving cannot be undone; add --yes to confirm", err=True)
        raise SystemExit(2)
    ids = list(db.session.scalars(services.rating_query(period=period, state="computed").with_only_columns(
        Rating.id)))
    try:
        done = services.review_ratings(ids, decision, note=note)
    except DomainError as exc:
        rollback()
        click.echo(f"error: {describe(exc)}", err=True)
        raise SystemExit(2)
    click.echo(f"{len(done)} rating(s) {'approved for public notice' if decision == 'approve' else 'returned'}")


@credit_cli.command("publish-due")
def publish_due_command():
    """Publish ratings whose public notice is over with nothing open; expire stale pending postings."""
    _cli_actor()
    published = services.publish_due_ratings()
    expired = services.expire_pending()
    click.echo(f"published {published} rating(s); expired {expired} pending posting(s)")
