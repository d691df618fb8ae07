"""``flask --app greenfin trace ...``: label sheets, EPCIS export and import, certificate lapses, network blocks."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import g

from greenfin import downloads
from greenfin.errors import DomainError
from greenfin.uow import CommandGroup

# Each command is one unit of work: committed when it ends normally, rolled back when it fails.
trace_cli = CommandGroup("trace", help="Traceability: labels, EPCIS, certificates.")


def _fail(exc: DomainError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    for field, messages in exc.errors.items():
        for m in messages:
            click.echo(f"  {field}: {m}", err=True)
    raise SystemExit(2)


@trace_cli.command("labels")
@click.option("--lot", "lot_code", required=True, help="Lot code (GS1 AI 10).")
@click.option("--gtin", help="GTIN, when several products share the lot code.")
@click.option("--count", type=int, required=True)
@click.option("--layout", default="a4-3x8", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="FILE.pdf; FILE.csv is written too.")
def labels_command(lot_code, gtin, count, layout, out):
    """Issue COUNT serialised labels for a lot and draw the sheet; FILE.csv lists uri,gtin,lot,serial."""
    from traceability import services

    g.actor_label = "cli"
    try:
        lot = services.find_lot(lot_code, gtin)
        batch = services.issue_label_batch(lot, count, layout)
    except DomainError as exc:
        _fail(exc)
    out_path = Path(out)
    with out_path.with_suffix(".csv").open("w", newline="", encoding="utf-8") as fh:
        writer = downloads.writer(fh)
        writer.writerow(["uri", "gtin", "lot", "serial"])
        for uri, serial in services.iter_batch_labels(batch):
            writer.writerow([uri, lot.product.gtin, lot.code, serial])
    n = services.render_batch_pdf(batch, str(out_path))
    click.echo(f"{n} labels for lot {lot.code} -> {out_path} and {out_path.with_suffix('.csv')}")


@trace_cli.command("export-epcis")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--lot", "lot_code", help="Only events of this lot.")
@click.option("--gtin")
def export_command(out, lot_code, gtin):
    """Write an EPCIS 2.0 JSON-LD document, event by event."""
    from traceability import services

    try:
        lot_id = services.find_lot(lot_code, gtin).id if lot_code else None
    except DomainError as exc:
        _fail(exc)
    if out == "-":
        n = services.export_epcis(sys.stdout, lot_id)
    else:
        with open(out, "w", encoding="utf-8") as fh:
            n = services.export_epcis(fh, lot_id)
    click.echo(f"{n} events written", err=True)


@trace_cli.command("import-epcis")
@click.argument("file", type=click.File("rb"))
@click.option("--party", "party_id", type=int,
              help="Capture as this producer: every lot the document names must be the party's.")
def import_command(file, party_id):
    """Capture a partner's EPCIS 2.0 JSON-LD document (all or nothing; re-import changes nothing)."""
    from traceability import services

    g.actor_label = "cli"
    try:
        document = json.load(file)
    except ValueError as exc:
        click.echo(f"error: not JSON: {exc}", err=True)
        raise SystemExit(2)
    try:
        result = services.import_epcis(document, party_id)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{result['created']} events stored, {result['skipped']} already present")


@trace_cli.command("lapse-certificates")
def lapse_command():
    """Post TRACE_CERT_LAPSED for certificates that expired (run daily)."""
    from traceability import services

    g.actor_label = "cli"
    lapsed = services.lapse_expired_certifications()
    click.echo(f"{len(lapsed)} certificates lapsed")


@trace_cli.command("block-network")
@click.option("--network", help="an address or network (kept as its /24 or /48), e.g. 203.0.113.0/24")
@click.option("--flag", "flag_id", type=int, help="block the network of this serial-guessing flag (and acknowledge it)")
@click.option("--days", type=int, required=True, help="1, 7, 30 or 90")
@click.option("--note", required=True, help="what was found or decided")
def block_network_command(network, flag_id, days, note):
    """Bar a client network from the scan route for a period: its scans are answered "paused"."""
    from traceability import services

    g.actor_label = "cli"
    if not network and flag_id is None:
        click.echo("error: give --network or --flag", err=True)
        raise SystemExit(2)
    try:
        block = services.block_network(network or "", days, note, flag_id=flag_id)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"blocked {block.network} until {block.ends_at:%Y-%m-%d %H:%M} UTC (block {block.id})")


@trace_cli.command("lift-block")
@click.argument("block_id", type=int)
@click.option("--note", required=True, help="why the block ends early")
def lift_block_command(block_id, note):
    """End a network block before its time."""
    from traceability import services

    g.actor_label = "cli"
    try:
        block = services.lift_block(block_id, note)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"lifted the block of {block.network}")
