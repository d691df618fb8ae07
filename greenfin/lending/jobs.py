"""Background jobs of lending: train a scorecard from an uploaded CSV, score a batch of
applicants, refresh delinquency.

All are safe to run twice: a training run whose upload is already registered returns that
version; a batch scoring writes the same file again; a delinquency refresh recomputes the same
values. Training uploads are kept under ``instance/lending/uploads``: workers on other machines
need that folder shared. Batch-scoring uploads are kept in the database (``score_batches``).
"""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from greenfin.downloads import safe_frame
from greenfin.extensions import db
from greenfin.lending.models import ModelVersion


def train_model(ctx, path: str, target: str, bad_value: Optional[str] = None, name: Optional[str] = None,
                champion: bool = False, include_protected: Optional[list] = None) -> None:
    from greenfin.lending.scoring.modelling import promote_model, protected_attributes, register_model
    from greenfin.lending.scoring.data import read_csv
    from greenfin.lending.scoring.scorecard import train

    ctx.progress(5, "reading")
    frame = read_csv(path)
    existing = db.session.scalar(select(ModelVersion).where(ModelVersion.training_source == path[-255:]))
    if existing is None:
        ctx.progress(20, "fitting")
        result = train(frame, target, bad_value, protected=protected_attributes(),
                       include_protected=include_protected or ())
        ctx.progress(80, "registering")
        existing = register_model(result, name=name or f"upload {path.rsplit('/', 1)[-1]}", target=target,
                                  bad_value=bad_value, source=path)
        if champion:
            promote_model(existing)
    # Paths, not url_for: a worker has no request.
    ctx.set_result(url=f"/lending/models/{existing.id}",
                   data={"version": existing.version, **{k: existing.metrics.get(k) for k in
                                                         ("auc", "ks", "gini", "brier", "n_train", "n_test")}})


train_model.label = _l("Scorecard training")


def refresh_delinquency(ctx, as_of: Optional[str] = None) -> None:
    from greenfin.lending.servicing import refresh_delinquency as refresh

    ctx.progress(10, "recomputing")
    changed = refresh(date.fromisoformat(as_of) if as_of else None)
    ctx.set_result(url="/lending/loans", data={"changed_bucket": changed})


refresh_delinquency.label = _l("Days past due refresh")


def scored_path(batch_id: int) -> Path:
    folder = Path(current_app.config["INSTANCE_PATH"]) / "lending" / "scores"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"batch-{batch_id}.csv"


def score_batch(ctx, batch_id: int) -> None:
    """Score an uploaded applicants CSV and write the scored CSV to instance/lending/scores/ (atomic rename).

    The columns are those of ``flask lending score``: the input plus score, pd and four reason codes.
    A worker killed while writing leaves its partial file behind (named by its process id); the
    retry removes it.
    """
    from greenfin.lending.scoring.modelling import finish_score_batch, get_score_batch, score_batch_frame

    batch = get_score_batch(batch_id)
    ctx.progress(10, "scoring")
    out = score_batch_frame(batch)
    ctx.progress(70, "writing")
    path = scored_path(batch.id)
    for partial in path.parent.glob(f"{path.stem}.*.tmp"):
        partial.unlink(missing_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    safe_frame(out).to_csv(tmp, index=False)
    os.replace(tmp, path)
    finish_score_batch(batch, int((out["row_status"] == "scored").sum()))
    # Paths, not url_for: a worker has no request. The page link needs a session, the API link a token.
    ctx.set_result(url=f"/lending/score-batches/{batch.id}/scored.csv",
                   data={"batch_id": batch.id, "rows": len(out), "rejected_rows": batch.rejected_rows,
                         "version": batch.model.version,
                         "api_url": f"/api/v1/lending/score-batches/{batch.id}/scored.csv"})


score_batch.label = _l("Batch scoring")
