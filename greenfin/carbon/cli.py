"""``flask --app greenfin carbon ...``: issue, transfer, retire, verify and report from the shell."""
from __future__ import annotations

import io
from pathlib import Path

import click
from flask import g

from greenfin.carbon import services
from greenfin.carbon.pdf import retirement_certificate_pdf
from greenfin.cli_errors import fail
from greenfin.downloads import writer
from greenfin.errors import DomainError
from greenfin.uow import CommandGroup

# Each command is one unit of work: committed when it ends normally, rolled back when it fails.
carbon_cli = CommandGroup("carbon", help="Forest carbon-sink registry: issue, transfer, retire, verify, report.")


@carbon_cli.command("issue")
@click.option("--report", "report_id", type=int, required=True, help="An approved monitoring report.")
def issue_command(report_id):
    """Issue the serials of an approved monitoring report (the buffer share goes to the buffer account)."""
    g.actor_label = "cli"
    try:
        report = services.issue_report(services.get_report(report_id))
    except DomainError as exc:
        fail(exc)
    click.echo(f"issued {report.issued_units} t of {report.project.code} vintage {report.vintage} "
               f"(+{report.buffer_units} t to the buffer)")


@carbon_cli.command("transfer")
@click.option("--block", "block_id", type=int, required=True)
@click.option("--quantity", type=int, required=True, help="Tonnes (the head of the block moves).")
@click.option("--to", "to_party_id", type=int, required=True, help="The buyer's party id.")
@click.option("--price", "unit_price", required=True, help="CNY a tonne.")
@click.option("--from", "from_party_id", type=int, help="The seller's party id (refused if it no longer holds the block).")
@click.option("--note")
def transfer_command(block_id, quantity, to_party_id, unit_price, from_party_id, note):
    """Transfer (sell) tonnes of a block to another party at a price a tonne."""
    g.actor_label = "cli"
    try:
        entry = services.transfer_units({"block_id": block_id, "quantity": quantity, "to_party_id": to_party_id,
                                         "unit_price": unit_price, "from_party_id": from_party_id, "note": note})
    except DomainError as exc:
        fail(exc)
    click.echo(f"{services.entry_serial(entry)}: {entry.quantity} t to {entry.counterparty} "
               f"at {entry.unit_price} CNY/t = {entry.amount} CNY (entry {entry.id})")


@carbon_cli.command("retire")
@click.option("--block", "block_id", type=int, required=True)
@click.option("--quantity", type=int, required=True)
@click.option("--beneficiary", required=True, help="The organisation or event whose emissions are offset.")
@click.option("--purpose", required=True)
@click.option("--beneficiary-party", "beneficiary_party_id", type=int, help="Its party id, when it is a registered party.")
@click.option("--certificate", type=click.Path(dir_okay=False, writable=True), help="Write the PDF certificate here.")
def retire_command(block_id, quantity, beneficiary, purpose, beneficiary_party_id, certificate):
    """Retire tonnes for good on behalf of a beneficiary; optionally write the certificate."""
    g.actor_label = "cli"
    try:
        entry = services.retire_units({"block_id": block_id, "quantity": quantity, "beneficiary": beneficiary,
                                       "purpose": purpose, "beneficiary_party_id": beneficiary_party_id})
    except DomainError as exc:
        fail(exc)
    click.echo(f"retired {services.entry_serial(entry)} ({entry.quantity} t) for {entry.beneficiary} "
               f"(certificate {entry.id})")
    if certificate:
        Path(certificate).write_bytes(retirement_certificate_pdf(entry))
        click.echo(f"certificate written to {certificate}")


@carbon_cli.command("verify")
def verify_command():
    """Recompute every project's hash chain and check the blocks against a replay; non-zero exit when broken."""
    report = services.verify_ledger()
    click.echo(f"checked {report.entries} entries in {report.projects} projects, {report.blocks} blocks")
    if report.ok:
        click.echo("ledger OK")
        return
    if report.first_broken_entry_id is not None:
        click.echo(f"first broken entry: {report.first_broken_entry_id}", err=True)
    for problem in report.problems[:20]:
        click.echo(f"BROKEN {problem}", err=True)
    raise SystemExit(1)


@carbon_cli.command("report")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write CSV here (default: print a table).")
def report_command(out):
    """Issued, available, pledged, retired and buffer tonnes per project and vintage."""
    rows = services.totals()
    columns = ("project_code", "vintage", "issued", "available", "pledged", "retired", "buffer")
    if out:
        buffer = io.StringIO()
        w = writer(buffer)
        w.writerow(columns)
        w.writerows([[row[c] for c in columns] for row in rows])
        Path(out).write_text(buffer.getvalue(), encoding="utf-8")
        click.echo(f"{len(rows)} project vintages written to {out}")
        return
    click.echo(" ".join(f"{c:>12s}" for c in columns))
    for row in rows:
        click.echo(" ".join(f"{row[c]!s:>12s}" for c in columns))
    total = services.grand_total(rows)
    click.echo(" ".join(f"{s:>12s}" for s in ("total", "")) + " " +
               " ".join(f"{total[c]!s:>12s}" for c in columns[2:]))
