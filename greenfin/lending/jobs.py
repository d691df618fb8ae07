"""Background jobs of lending: train a scorecard from an uploaded CSV, refresh delinquency.

Both are safe to run twice: a training run whose upload is already registered returns that
version; a delinquency refresh recomputes the same values. Uploads are kept under
``instance/lending/uploads``: workers on other machines need that folder shared.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import select

from greenfin.extensions import db
from greenfin.lending.models import ModelVersion


def train_model(ctx, path: str, target: str, bad_value: Optional[str] = None, name: Optional[str] = None,
                champion: bool = False) -> None:
    from greenfin.lending.modelling import promote_model, register_model
    from greenfin.lending.scorecard import read_csv, train

    ctx.progress(5, "reading the CSV")
    frame = read_csv(path)
    existing = db.session.scalar(select(ModelVersion).where(ModelVersion.training_source == path[-255:]))
    if existing is None:
        ctx.progress(20, "binning and fitting")
        result = train(frame, target, bad_value)
        ctx.progress(80, "registering")
        existing = register_model(result, name=name or f"upload {path.rsplit('/', 1)[-1]}", target=target,
                                  bad_value=bad_value, source=path)
        if champion:
            promote_model(existing)
    # Paths, not url_for: a worker has no request.
    ctx.set_result(url=f"/lending/models/{existing.id}",
                   data={"version": existing.version, **{k: existing.metrics.get(k) for k in
                                                         ("auc", "ks", "gini", "brier", "n_train", "n_test")}})


def refresh_delinquency(ctx, as_of: Optional[str] = None) -> None:
    from greenfin.lending.servicing import refresh_delinquency as refresh

    ctx.progress(10, "recomputing days past due")
    changed = refresh(date.fromisoformat(as_of) if as_of else None)
    ctx.set_result(url="/lending/loans", data={"changed_bucket": changed})
