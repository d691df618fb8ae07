"""``flask --app greenfin insurance ...``: import weather, link stations, evaluate, backtest."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import g

from greenfin.cli_errors import fail as _fail
from greenfin.errors import DomainError
from greenfin.uow import CommandGroup, units

insurance_cli = CommandGroup("insurance", help="Weather-index insurance.")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("write the date as YYYY-MM-DD")


@insurance_cli.command("import-weather")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_weather_command(file: Path):
    """Import daily station readings from a CSV FILE (station,date,tmin,tmax,precipitation).

    Bad rows are reported with their line and reason and not stored; days already held are
    reported as duplicates; missing days as gaps. The good rows are stored. Exit status 1 when
    any row was bad.
    """
    from greenfin.insurance import services

    g.actor_label = "cli"
    text = file.read_text(encoding="utf-8-sig")
    try:
        for _ in units([file]):  # committed before a bad row's exit status 1: the good rows stay
            report = services.import_observations(text, source=file.name)
    except DomainError as exc:
        _fail(exc)
    for line, reason in report.errors:
        click.echo(f"{file.name}: line {line}: {reason}", err=True)
    for line, row in report.duplicates:
        click.echo(f"{file.name}: line {line}: duplicate day {row} (kept the reading already held)", err=True)
    for station, first, last in report.gaps:
        click.echo(f"gap: {station} has no readings from {first} to {last}", err=True)
    click.echo(f"{report.created} readings imported, {len(report.duplicates)} duplicates, "
               f"{len(report.errors)} rows rejected, {len(report.gaps)} gaps")
    if report.errors:
        sys.exit(1)


@insurance_cli.command("link-stations")
def link_stations_command():
    """Link every parcel to its nearest station (within 50 km)."""
    from greenfin.insurance import services

    g.actor_label = "cli"
    counts = services.link_parcels()
    click.echo(f"{counts['linked']} linked, {counts['changed']} changed, {counts['unlinked']} beyond every station")


@insurance_cli.command("evaluate")
@click.option("--date", "as_of", help="Evaluate up to this day, YYYY-MM-DD (default: yesterday).")
def evaluate_command(as_of):
    """Evaluate every live policy against its station's readings (what the daily job does)."""
    from greenfin.insurance import services

    g.actor_label = "cli"
    created = services.evaluate_policies(_day(as_of))
    click.echo(f"{created} claims created")


@insurance_cli.command("backtest")
@click.option("--product", "product_code", required=True, help="Product code (its newest version).")
@click.option("--station", "station_code", required=True, help="Station code.")
def backtest_command(product_code, station_code):
    """Payout frequency, expected loss and premium of PRODUCT at STATION over every complete season."""
    from greenfin.insurance import services

    g.actor_label = "cli"
    product, station = services.find_product(product_code), services.find_station(station_code)
    if product is None:
        click.echo(f"product: unknown index product {product_code!r}", err=True)
        sys.exit(2)
    if station is None:
        click.echo(f"station: unknown station {station_code!r}", err=True)
        sys.exit(2)
    try:
        result = services.run_backtest(product, station, audit=True)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{result['product']} at {result['station']}{' (SYNTHETIC series)' if result['synthetic'] else ''}")
    click.echo("season  events  worst   share     loss/ha")
    for s in result["seasons"]:
        worst = "-" if s["worst_index"] is None else str(s["worst_index"])
        click.echo(f"{s['season']:6d}  {s['events']:6d}  {worst:>6s}  {s['share']:>8}  {s['loss_per_ha']:>10}")
    click.echo(f"seasons {len(result['seasons'])}, payout frequency {result['frequency']}, "
               f"expected loss {result['expected_loss_rate']} ({result['expected_loss_per_ha']} CNY/ha)")
    click.echo(f"premium = expected loss x loading {result['loading']} = {result['premium_rate']} "
               f"({result['premium_per_ha']} CNY/ha); the product charges {result['current_premium_rate']}")
