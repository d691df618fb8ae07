"""``flask --app greenfin pools ...``: cuts, loan tapes, projections and servicer reports from the shell."""
from __future__ import annotations

from pathlib import Path

import click
from flask import g
from flask.cli import AppGroup

from greenfin.cli_errors import fail as _fail
from greenfin.errors import DomainError, ValidationFailed
from greenfin.uow import commit
from greenfin.pools import cuts, projections, reporting, services
from greenfin.pools.pdf import servicer_report_pdf

pools_cli = AppGroup("pools", help="Asset pools: cuts, loan tapes, cash-flow projections, servicer reports.")


def _write(path: str, data, binary: bool = False) -> None:
    target = Path(path)
    if binary:
        target.write_bytes(data)
    else:
        target.write_text(data, encoding="utf-8")


@pools_cli.command("cut")
@click.option("--pool", "pool_id", type=int, required=True)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Cut-off date (default today).")
@click.option("--corrects", type=int, help="The published cut this one corrects.")
@click.option("--note", help="What the cut is for (required for a correction).")
@click.option("--draft", is_flag=True, help="Leave the cut unpublished.")
def cut_command(pool_id, as_of, corrects, note, draft):
    """Snapshot every loan in the pool and publish the cut (immutable from then on)."""
    g.actor_label = "cli"
    try:
        pool = services.get_pool(pool_id)
        cut = cuts.create_cut(pool, as_of.date() if as_of else None, corrects, note)
        if not draft:
            cuts.publish_cut(cut)
        commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"cut {cut.id} (#{cut.seq} of {pool.code}) as of {cut.as_of}: {cut.loan_count} loans, "
               f"balance {cut.total_balance} CNY, {cut.status}")


@pools_cli.command("tape")
@click.option("--pool", "pool_id", type=int, required=True)
@click.option("--cut", "cut_id", type=int, help="A cut of the pool (default: its latest published cut).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def tape_command(pool_id, cut_id, out):
    """Write the loan tape (CSV, ESMA-style fields, No-Data codes) of a published cut."""
    try:
        pool = services.get_pool(pool_id)
        cut = cuts.get_cut(cut_id, pool) if cut_id else cuts.latest_published_cut(pool)
        if cut is None:
            raise ValidationFailed("Publish a pool cut first", {"cut": ["the pool has no published cut"]})
    except DomainError as exc:
        _fail(exc)
    _write(out, cuts.tape_csv(cut))
    click.echo(f"{len(cut.lines)} loans written to {out} (cut #{cut.seq} as of {cut.as_of}, {cut.status})")


@pools_cli.command("project")
@click.option("--pool", "pool_id", type=int, required=True)
@click.option("--cpr", type=float, default=projections.DEFAULT_ASSUMPTIONS["cpr"], show_default=True, help="Annual prepayment rate, 0-1.")
@click.option("--cdr", type=float, default=projections.DEFAULT_ASSUMPTIONS["cdr"], show_default=True, help="Annual default rate, 0-1.")
@click.option("--severity", type=float, default=projections.DEFAULT_ASSUMPTIONS["severity"], show_default=True, help="Loss severity, 0-1.")
@click.option("--lag", "recovery_lag", type=int, default=projections.DEFAULT_ASSUMPTIONS["recovery_lag"], show_default=True, help="Recovery lag in months.")
@click.option("--months", type=int, help="Horizon (default: to the last maturity plus the lag).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def project_command(pool_id, cpr, cdr, severity, recovery_lag, months, out):
    """Project the pool's cash flows through the tranche waterfall; monthly rows to CSV."""
    try:
        pool = services.get_pool(pool_id)
        result = projections.project(pool, {"cpr": cpr, "cdr": cdr, "severity": severity,
                                         "recovery_lag": recovery_lag, "months": months})
    except DomainError as exc:
        _fail(exc)
    _write(out, projections.projection_csv(result))
    summary = projections.projection_summary(result)
    click.echo(f"{result.projection.months} months projected from {summary['source']} "
               f"({summary['opening_balance']:,.2f} CNY); written to {out}")
    for t in summary["tranches"]:
        wal = f"{t['wal_years']:.2f}y" if t["wal_years"] is not None else "—"
        irr = f"{t['irr'] * 100:.2f}%" if t["irr"] is not None else "—"
        click.echo(f"  {t['name']:3s} {t['kind']:13s} WAL {wal:>7s}  yield {irr:>8s}  losses {t['losses']:,.2f}")


@pools_cli.command("report")
@click.option("--pool", "pool_id", type=int, required=True)
@click.option("--month", required=True, help="YYYY-MM, a month that has ended.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def report_command(pool_id, month, out):
    """Compute (or recompute) the month's servicer report from servicing data and write it as PDF."""
    g.actor_label = "cli"
    try:
        pool = services.get_pool(pool_id)
        report = reporting.generate_servicer_report(pool, month)
        commit()
    except DomainError as exc:
        _fail(exc)
    _write(out, servicer_report_pdf(pool, report, reporting.history(pool, month)), binary=True)
    f = report.figures
    click.echo(f"servicer report {pool.code} {month}: closing balance {f['closing_balance']:,.2f} CNY, "
               f"pool factor {f['pool_factor']:.4f}; written to {out}")

