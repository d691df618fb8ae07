"""``flask lending ...``: train, score, generate-book, promote, refresh-dpd, purge-batches."""
from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import g

from greenfin.downloads import safe_frame
from greenfin.errors import DomainError
from greenfin.uow import CommandGroup

# Each command is one unit of work: committed when it ends normally, rolled back when it fails.
lending_cli = CommandGroup("lending", help="Eco-product lending: scorecards and servicing.")


def training_uncertainty(m: dict) -> dict:
    """The cross-validated figures and bootstrap intervals of a training's metrics (JSON line)."""
    return {k: m[k] for k in ("cv", "bootstrap", "calibration") if k in m}


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@lending_cli.command("train")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Loan-book CSV.")
@click.option("--target", required=True, help="The column saying whether the loan went bad.")
@click.option("--bad-value", default=None, help="The target value that means bad (default: 1/bad/yes/default).")
@click.option("--test-csv", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Evaluate on this CSV instead of a stratified 30% holdout.")
@click.option("--name", default=None, help="A name for the version.")
@click.option("--champion", is_flag=True, help="Make the new version the champion at once.")
@click.option("--include-protected", "include_protected", multiple=True, metavar="COLUMN",
              help="Keep this protected column (sex, marital status, ethnicity, religion) as a feature; "
                   "recorded on the model card and in the audit trail. Repeatable.")
def train_command(csv_path, target, bad_value, test_csv, name, champion, include_protected):
    """Train a scorecard on a loan-book CSV, register it, print one JSON line of metrics."""
    from greenfin.lending.scoring.modelling import protected_attributes, register_model
    from greenfin.lending.scoring.data import TrainingError, read_csv
    from greenfin.lending.scoring.scorecard import train

    g.actor_label = "cli"
    try:
        frame = read_csv(csv_path)
        test = read_csv(test_csv) if test_csv else None
        result = train(frame, target, bad_value, test, protected=protected_attributes(),
                       include_protected=include_protected)
        version = register_model(result, name=name or f"scorecard on {csv_path.rsplit('/', 1)[-1]}", target=target,
                                 bad_value=bad_value, source=csv_path, role="champion" if champion else "challenger")
    except (TrainingError, DomainError) as exc:
        _fail(getattr(exc, "message", None) or str(exc))
    m = result.metrics
    dropped, included = m["protected"]["dropped"], m["protected"]["included"]
    if dropped:
        click.echo("dropped protected columns: " + ", ".join(f"{c} ({a})" for c, a in dropped.items())
                   + "; --include-protected COLUMN keeps one", err=True)
    if included:
        click.echo("kept protected columns as features (flagged on the model card): " + ", ".join(included), err=True)
    click.echo(json.dumps({"version": version.version, "role": version.role, "auc": m["auc"], "ks": m["ks"],
                           "gini": m["gini"], "brier": m["brier"], "n_train": m["n_train"], "n_test": m["n_test"],
                           "features": version.features, "protected_dropped": list(dropped),
                           "protected_included": list(included), **training_uncertainty(m)}, ensure_ascii=False))


@lending_cli.command("score")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--version", default=None, help="Model version (default: the champion).")
def score_command(csv_path, out_path, version):
    """Batch-score a CSV: adds score, pd and four reason codes per row (as the batch-scoring job does)."""
    from greenfin.lending.scoring.modelling import score_applicants, scoring_model

    try:
        model = scoring_model(version)
        out = score_applicants(csv_path, model, csv_path)
    except DomainError as exc:
        _fail(exc.message)
    safe_frame(out).to_csv(out_path, index=False)
    rejected = int((out["row_status"] == "rejected").sum())
    click.echo(json.dumps({"version": model.version, "rows": len(out), "rejected_rows": rejected, "out": out_path}))
    if rejected:  # the good rows are scored and written; the bad ones are named, and the exit says so
        for line in out.loc[out["row_status"] == "rejected", "problems"].head(20):
            click.echo(f"rejected: {line}", err=True)
        raise SystemExit(1)


@lending_cli.command("generate-book")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--rows", default=6000, show_default=True)
@click.option("--seed", default=2026, show_default=True)
def generate_book_command(out_path, rows, seed):
    """Write the synthetic Guangfeng loan book (see greenfin/lending/synthetic.py)."""
    from greenfin.lending.synthetic import generate_book

    frame = generate_book(rows, seed)
    safe_frame(frame).to_csv(out_path, index=False)
    click.echo(json.dumps({"rows": len(frame), "bad_rate": round(float(frame["defaulted"].mean()), 4), "out": out_path}))


@lending_cli.command("promote")
@click.argument("version")
def promote_command(version):
    """Make VERSION the champion."""
    from greenfin.lending.scoring.modelling import model_by_version, promote_model

    g.actor_label = "cli"
    try:
        promote_model(model_by_version(version))
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"{version} is the champion")


@lending_cli.command("refresh-dpd")
@click.option("--as-of", default=None, help="YYYY-MM-DD (default today)")
def refresh_dpd_command(as_of):
    """Recompute days past due and buckets of active loans (run daily)."""
    from greenfin.lending.servicing import refresh_delinquency

    g.actor_label = "cli"
    changed = refresh_delinquency(date.fromisoformat(as_of) if as_of else None)
    click.echo(json.dumps({"changed": changed}))


@lending_cli.command("purge-batches")
@click.option("--older-than", "days", type=int, default=None,
              help="Days to keep uploads (default LENDING_BATCH_RETENTION_DAYS, 90).")
def purge_batches_command(days):
    """Delete batch-scoring uploads and scored files past the retention period (run daily)."""
    from flask import current_app

    from greenfin.lending.scoring.modelling import purge_score_batches

    g.actor_label = "cli"
    days = current_app.config["LENDING_BATCH_RETENTION_DAYS"] if days is None else days
    try:
        purged = purge_score_batches(days)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(json.dumps({"purged": [b.id for b in purged], "older_than_days": days}))
