"""``flask --app greenfin market ...``: the eco-product catalogue from the shell."""
from __future__ import annotations

import sys

import click

from greenfin import downloads
from greenfin.cli_errors import fail as _fail
from greenfin.errors import DomainError
from greenfin.market import services
from greenfin.uow import CommandGroup

market_cli = CommandGroup("market", help="Eco-product catalogue, its coverage, and the market's figures.")


@market_cli.command("catalogue")
@click.option("--township", help="Township code of the origin parcel.")
@click.option("--product", type=int, help="Product id.")
@click.option("--certification", help="Certificate kind valid today (green_food, organic, gi, test_report).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="CSV file (default stdout).")
def catalogue_command(township, product, certification, output):
    """Write the catalogue as CSV (the same columns as the public download)."""
    try:
        entries = services.catalogue(township=township, product=product, certification=certification)
    except DomainError as exc:
        _fail(exc)
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = downloads.DictWriter(out, fieldnames=services.CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(services.csv_rows(entries))
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{len(entries)} catalogue entries written to {output}", err=True)


@market_cli.command("coverage")
def coverage_command():
    """How many parcels with a GEP account have catalogue entries, and which do not."""
    result = services.coverage()
    share = "—" if result["share"] is None else f"{result['share']}%"
    click.echo(f"accounted parcels: {result['accounted']}; with catalogue entries: {result['covered']} ({share}); "
               f"entries on parcels without an account: {result['uncounted']}")
    for p in result["missing"]:
        click.echo(f"missing\t{p['code']}\t{p['township']}\t{p['village'] or ''}")


@market_cli.command("import-demand")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_demand_command(path):
    """Post buyers' demand from a CSV file (columns: buyer_uscc, gtin, quantity, unit, delivery_from,
    delivery_until, required_certifications separated by ';', max_price): every row or none."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            posted = services.import_demand(fh)
        except DomainError as exc:
            _fail(exc)
    click.echo(f"{len(posted)} demand rows posted: " + ", ".join(str(d.id) for d in posted))


@market_cli.command("report")
@click.option("--month", help="Only receipts of this month (YYYY-MM).")
def report_command(month):
    """Offers and orders by status, refused offers, and per month what each buyer received (CSV rows)."""
    if month is not None and not _is_month(month):
        _fail(DomainError("Invalid input", {"month": ["must be YYYY-MM"]}))
    report = services.market_report(month)
    click.echo("offers: " + (", ".join(f"{k} {v}" for k, v in sorted(report["offers"].items())) or "none")
               + "; on offer: " + (", ".join(f"{_plain(q)} {u}" for u, q in sorted(report["on_offer"].items()))
                                   or "nothing"))
    click.echo("orders: " + (", ".join(f"{k} {v}" for k, v in sorted(report["orders"].items())) or "none")
               + f"; offers refused: {report['refused_offers']}")
    writer = downloads.DictWriter(sys.stdout, fieldnames=services.REPORT_COLUMNS)
    writer.writeheader()
    for row in report["received"]:
        writer.writerow(row | {"quantity": _plain(row["quantity"]), "public": "yes" if row["public"] else "no",
                               "quota_share": "" if row["quota_share"] is None else _plain(row["quota_share"]),
                               "amount": f"{row['amount']:.2f}"})


def _is_month(text: str) -> bool:
    from datetime import datetime

    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        return False
    return len(text) == 7


def _plain(value) -> str:
    from decimal import Decimal

    return format(Decimal(value).normalize(), "f")
