"""The model registry, application scoring and population stability monitoring."""
from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Optional

import numpy as np
import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from greenfin.job_model import Job
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.errors import N_, Conflict, Gone, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.lending import links
from greenfin.lending.models import Application, ModelVersion, Score, ScoreBatch
from greenfin.lending.pricing import band_for
from greenfin.lending.scoring import intake
from greenfin.lending.scoring.scorecard import Scaling, Scorecard, TrainingResult, psi
from greenfin.security import current_actor

PSI_WARN = 0.10
PSI_ALERT = 0.25
PSI_MIN_N = 20  # months with fewer scored applications are shown but not judged
_CACHE: dict[str, Scorecard] = {}


# ---------------------------------------------------------------- registry


def _next_version() -> str:
    numbers = [int(m.group(1)) for v in db.session.scalars(select(ModelVersion.version))
               if (m := re.fullmatch(r"v(\d+)", v))]
    return f"v{max(numbers, default=0) + 1}"


def protected_attributes() -> tuple:
    """The protected attributes training leaves out (config ``LENDING_PROTECTED_ATTRIBUTES``:
    keys of ``data.PROTECTED`` or column names; default sex, marital status, ethnicity, religion)."""
    from flask import current_app

    from greenfin.lending.scoring.data import DEFAULT_PROTECTED

    return tuple(current_app.config.get("LENDING_PROTECTED_ATTRIBUTES") or DEFAULT_PROTECTED)


def register_model(result: TrainingResult, *, name: str, target: str, bad_value: Optional[str],
                   source: Optional[str] = None, role: str = "challenger") -> ModelVersion:
    """Store a trained scorecard as a new version (challenger unless said otherwise)."""
    if role not in ("champion", "challenger"):
        raise ValidationFailed.field("role", "must be champion or challenger")
    blob = result.scorecard.dumps()
    user = current_actor()
    version = ModelVersion(
        version=_next_version(), name=name[:128], role="challenger", artefact=blob,
        artefact_sha256=hashlib.sha256(blob).hexdigest(), features=result.scorecard.features, target=target,
        bad_value=bad_value, training_data_hash=result.data_hash, training_source=(source or '')[-255:] or None, metrics=result.metrics,
        scaling=result.scorecard.scaling.as_dict(), reference=result.reference,
        created_by_id=user.id if user else None,
    )
    db.session.add(version)
    db.session.flush()
    record_audit("lending.model.register", "scoring_model", version.id,
                 after={"version": version.version, "features": version.features,
                        "metrics": {k: result.metrics.get(k) for k in ("auc", "ks", "gini", "brier")},
                        "protected": result.metrics.get("protected")})
    if role == "champion":
        promote_model(version)
    return version


def get_model(model_id: int) -> ModelVersion:
    model = db.session.get(ModelVersion, model_id)
    if model is None:
        raise NotFound(f"model {model_id} not found")
    return model


def model_by_version(version: str) -> ModelVersion:
    model = db.session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if model is None:
        raise NotFound(f"model version '{version}' not found")
    return model


def champion() -> Optional[ModelVersion]:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.role == "champion"))


def promote_model(model: ModelVersion) -> ModelVersion:
    """Make ``model`` the champion; the old champion becomes a challenger."""
    if model.role == "champion":
        raise Conflict(f"{model.version} is already the champion")
    old = champion()
    if old is not None:
        old.role = "challenger"
        record_audit("lending.model.demote", "scoring_model", old.id, before={"role": "champion"},
                     after={"role": "challenger"})
    before = model.role
    model.role = "champion"
    db.session.flush()
    record_audit("lending.model.promote", "scoring_model", model.id, before={"role": before}, after={"role": "champion"})
    return model


def retire_model(model: ModelVersion) -> ModelVersion:
    if model.role == "champion":
        raise Conflict("promote another version before retiring the champion")
    before = model.role
    model.role = "retired"
    record_audit("lending.model.retire", "scoring_model", model.id, before={"role": before}, after={"role": "retired"})
    return model


def load_scorecard(model: ModelVersion) -> Scorecard:
    """The fitted scorecard of a version (cached by artefact hash; verified on load)."""
    card = _CACHE.get(model.artefact_sha256)
    if card is None:
        blob = model.artefact
        if hashlib.sha256(blob).hexdigest() != model.artefact_sha256:
            raise Conflict(f"artefact of {model.version} does not match its hash")
        card = Scorecard.loads(blob)
        card.scaling = Scaling(**model.scaling)
        _CACHE[model.artefact_sha256] = card
    return card


# ---------------------------------------------------------------- features of an application


def application_features(app: Application, colour: Optional[str] = None) -> dict[str, Any]:
    """The scoring inputs of an application, named as in the synthetic loan book."""
    from greenfin.lending.services import collateral_summary

    income = float(app.annual_income) if app.annual_income else None
    debts = float(app.total_debts)
    summary = collateral_summary(app)
    return {
        "township": app.party.township_code,
        "party_kind": app.party.kind,
        "sector": app.party.sector or "other",
        "product": app.product.kind,
        "eco_colour": colour or "unrated",
        "annual_income": income,
        "total_assets": float(app.total_assets),
        "total_debts": debts,
        "debt_to_income": round(debts / income, 4) if income else None,
        "amount": float(app.amount),
        "loan_to_income": round(float(app.amount) / income, 4) if income else None,
        "term_months": app.term_months,
        "collateral_coverage": float(summary["coverage"] or 0),
        "years_in_business": app.years_in_business,
        "guarantor_count": len(app.guarantors or []),
        "asset_to_debt": round(float(app.total_assets) / max(debts, 1.0), 4),
    }


def score_application(app: Application) -> Score:
    """Score with the champion (and each challenger beside it); returns the champion's score."""
    if app.status not in ("submitted", "scored", "referred"):
        raise Conflict(f"application {app.number} is {app.status}; it can no longer be scored")
    model = champion()
    if model is None:
        raise Conflict("no champion model is registered: train one with 'flask lending train'")
    colour = links.current_colour(app.party_id)
    inputs = application_features(app, colour)
    app.eco_colour = colour
    champion_score = None
    models = [model] + list(db.session.scalars(select(ModelVersion).where(ModelVersion.role == "challenger")))
    for m in models:
        result = load_scorecard(m).score_records([inputs])[0]
        row = Score(application_id=app.id, model_id=m.id, role=m.role, score=result["score"],
                    pd=Decimal(str(round(result["pd"], 6))), band=band_for(result["score"]),
                    reasons=result["reasons"], inputs=inputs)
        db.session.add(row)
        if m.role == "champion":
            champion_score = row
    before = app.status
    if app.status == "submitted":
        app.status = "scored"
    db.session.flush()
    record_audit("lending.application.score", "loan_application", app.id, before={"status": before},
                 after={"status": app.status, "score": champion_score.score, "band": champion_score.band,
                        "model": model.version, "eco_colour": colour}, party_id=app.party_id)
    return champion_score


def latest_score(app: Application, role: str = "champion") -> Optional[Score]:
    return db.session.scalar(select(Score).where(Score.application_id == app.id, Score.role == role)
                             .order_by(Score.id.desc()).limit(1))


def check_applicants(frame: pd.DataFrame, model: ModelVersion) -> intake.RowCheck:
    """The intake checks of every row against ``model``'s features (``scoring/intake.py``)."""
    card = load_scorecard(model)
    categories = {b.name: set(b.categories) for b in card.bins if b.kind == "categorical"}
    return intake.check_rows(frame, card.kinds, categories)


def score_csv(frame: pd.DataFrame, model: ModelVersion) -> pd.DataFrame:
    """Batch-score a CSV: score, probability of default and four reason codes per row that passes
    the intake checks; ``row_status`` (scored / rejected) and ``problems`` say which did not and why."""
    card = load_scorecard(model)
    check = check_applicants(frame, model)
    out = frame.copy()
    n, ok = len(frame), check.ok
    result = card.score_frame(frame[ok].reset_index(drop=True))
    score = pd.array([pd.NA] * n, dtype="Int64")
    score[ok] = result.score
    pd_ = np.full(n, np.nan)
    pd_[ok] = result.pd.round(6)
    out["score"], out["pd"] = score, pd_
    for column, values in card.reason_columns(result).items():
        full = np.full(n, "", dtype=object)
        full[ok] = values
        out[column] = full
    out["row_status"] = np.where(ok, "scored", "rejected")
    out["problems"] = check.row_text(n)
    return out


def batch_problems(batch: ScoreBatch) -> list[dict]:
    """The per-row report of a batch: every problem of its rejected rows, from the stored upload."""
    require_upload(batch)
    return check_applicants(read_applicants(batch.input, batch.model, batch.filename), batch.model).problems


# ---------------------------------------------------------------- batch scoring (``lending score`` and its job)

CSV_SUFFIXES = (".csv", ".txt")


def scoring_model(version: Optional[str] = None) -> ModelVersion:
    """The version named, or the champion when none is."""
    if version:
        return model_by_version(version)
    model = champion()
    if model is None:
        raise Conflict("no champion model is registered: train one or name a version")
    return model


def read_applicants(source: str | bytes, model: ModelVersion, name: Optional[str] = None) -> pd.DataFrame:
    """Read an applicants CSV (a path or an upload's bytes) and check that it carries every
    feature column of ``model``.

    Raises ValidationFailed on the field ``file``, naming the problem: unreadable (code
    ``unreadable_csv``), no rows, or the feature columns it lacks (code ``missing_columns``).
    """
    from greenfin.lending.scoring.data import TrainingError, csv_label, read_csv

    try:
        frame = read_csv(source)
    except TrainingError as exc:
        detail = str(exc).replace(csv_label(source), name or "the file", 1)
        raise ValidationFailed("Unreadable CSV", {"file": [detail]}, code="unreadable_csv") from None
    if frame.empty:
        raise ValidationFailed("Empty CSV", {"file": [N_("has no rows")]})
    missing = [f for f in model.features if f not in frame.columns]
    if missing:
        error = ValidationFailed("The CSV lacks feature columns",
                                 {"file": [f"lacks the feature columns of {model.version}: {', '.join(missing)}"]},
                                 code="missing_columns")
        error.columns = missing
        raise error
    return frame


def score_applicants(source: str | bytes, model: ModelVersion, name: Optional[str] = None) -> pd.DataFrame:
    """Batch-score an applicants CSV: its columns plus ``score, pd, reason_1..4, reason_1..4_text``."""
    return score_csv(read_applicants(source, model, name), model)


def create_score_batch(data: bytes, filename: str, version: Optional[str] = None) -> ScoreBatch:
    """Check an uploaded applicants CSV and keep it for the batch-scoring job.

    Bad input (no file, not a CSV, an unknown version, an unreadable file or missing feature
    columns) raises ValidationFailed naming the field; nothing is stored then.
    """
    errors: dict[str, list[str]] = {}
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[-255:]
    if not data:
        errors["file"] = [N_("is required")]
    elif not name.lower().endswith(CSV_SUFFIXES) or b"\x00" in data[:4096]:
        errors["file"] = [N_("must be a CSV file")]
    model = None
    if version:
        model = db.session.scalar(select(ModelVersion).where(ModelVersion.version == version))
        if model is None:
            errors["version"] = [N_("unknown model version")]
    if errors:
        raise ValidationFailed("Invalid score batch", errors)
    model = model or scoring_model()
    frame = read_applicants(data, model, name)
    rejected = check_applicants(frame, model).rejected
    user = current_actor()
    batch = ScoreBatch(filename=name, model_id=model.id, rows=len(frame), rejected_rows=rejected, input=data,
                       input_sha256=hashlib.sha256(data).hexdigest(), created_by_id=user.id if user else None)
    db.session.add(batch)
    db.session.flush()
    record_audit("lending.score_batch.create", "score_batch", batch.id,
                 after={"filename": name, "rows": batch.rows, "rejected_rows": rejected, "model": model.version,
                        "sha256": batch.input_sha256})
    return batch


def start_score_batch(data: bytes, filename: str, version: Optional[str] = None) -> ScoreBatch:
    """Keep an applicants CSV (checked as ``create_score_batch`` does) and queue the job that
    scores it; ``batch.job`` is the job to follow. The page, the API and their tests use this."""
    from greenfin.jobs import enqueue
    from greenfin.i18n import requester_gettext as _

    batch = create_score_batch(data, filename, version)
    job = enqueue("greenfin.lending.jobs.score_batch", {"batch_id": batch.id},
                  title=_("Scoring %(file)s (%(rows)s rows, %(version)s)", file=batch.filename, rows=batch.rows,
                          version=batch.model.version),
                  subject=("lending.models", {"_anchor": "score-batch"}))
    batch.job_id = job.id
    db.session.flush()
    return batch


def start_training(stream: BinaryIO, *, target: str, bad_value: Optional[str] = None, name: Optional[str] = None,
                   champion: bool = False, include_protected: Optional[list[str]] = None) -> Job:
    """Keep an uploaded loan-book CSV under ``instance/lending/uploads`` and queue the job that
    trains a scorecard on it. The target column is checked now (ValidationFailed on ``target``,
    and the upload is not kept), so the officer sees the problem on the form."""
    from flask import current_app

    from greenfin.jobs import enqueue
    from greenfin.i18n import requester_gettext as _
    from greenfin.lending.scoring.data import TrainingError, protected_columns, read_csv, target_vector

    target = (target or "").strip()
    folder = Path(current_app.config["INSTANCE_PATH"]) / "lending" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out)
    include_protected = [str(c).strip() for c in include_protected or () if str(c).strip()]
    try:
        frame = read_csv(str(path))
        target_vector(frame, target, bad_value or None)
    except TrainingError as exc:
        path.unlink(missing_ok=True)
        raise ValidationFailed.field("target", str(exc)) from None
    found = protected_columns(frame, target, protected_attributes())
    unknown = [c for c in include_protected if c not in found]
    if unknown:
        path.unlink(missing_ok=True)
        raise ValidationFailed.field("include_protected", f"not a protected column of the CSV: {', '.join(unknown)} "
                                                          f"(protected columns: {', '.join(found) or 'none'})")
    return enqueue("greenfin.lending.jobs.train_model",
                   {"path": str(path), "target": target, "bad_value": bad_value or None, "name": name or None,
                    "champion": bool(champion), "include_protected": include_protected},
                   title=_("Train a scorecard"), subject=("lending.models", {}))


def get_score_batch(batch_id: int) -> ScoreBatch:
    batch = db.session.get(ScoreBatch, batch_id)
    if batch is None:
        raise NotFound(f"score batch {batch_id} not found")
    return batch


def score_batch_query() -> Select:
    return select(ScoreBatch).order_by(ScoreBatch.id.desc())


def require_upload(batch: ScoreBatch) -> None:
    """410 once the batch's upload has been deleted under the retention rule."""
    if batch.purged_at is not None:
        raise Gone(f"batch {batch.id}'s upload was deleted on {batch.purged_at:%Y-%m-%d} under the retention rule")


def score_batch_frame(batch: ScoreBatch) -> pd.DataFrame:
    """The scored rows of a batch, from its stored upload (what ``lending score`` writes)."""
    require_upload(batch)
    return score_applicants(batch.input, batch.model, batch.filename)


def purge_score_batches(older_than_days: int) -> list[ScoreBatch]:
    """Delete the uploads (applicants' figures) of batches uploaded more than ``older_than_days``
    days ago, keeping each batch's record (file name, rows, SHA-256, model, who and when), and
    their scored files (``jobs.scored_path``); a batch whose job may still read its upload is
    left for the next run. A file removed in a unit of work that then rolls back is harmless:
    while the upload is kept, a missing scored file is rebuilt from it."""
    from greenfin.lending.jobs import scored_path

    if older_than_days < 1:
        raise ValidationFailed.field("older_than_days", "must be at least 1")
    cutoff = utcnow() - timedelta(days=older_than_days)
    purged = []
    old = select(ScoreBatch).where(ScoreBatch.created_at < cutoff, ScoreBatch.purged_at.is_(None))
    for batch in db.session.scalars(old.options(selectinload(ScoreBatch.job))):  # each one's status, one query
        if batch.status in ("queued", "started"):
            continue
        batch.input, batch.purged_at = b"", utcnow()
        record_audit("lending.score_batch.purge", "score_batch", batch.id, before={"input_sha256": batch.input_sha256},
                     after={"purged_at": batch.purged_at, "retention_days": older_than_days})
        purged.append(batch)
    db.session.flush()
    for batch in purged:
        scored_path(batch.id).unlink(missing_ok=True)
    return purged


def finish_score_batch(batch: ScoreBatch, rows: int) -> ScoreBatch:
    """Record that the batch's scored file is written (by its job)."""
    batch.scored_rows = rows
    db.session.flush()
    record_audit("lending.score_batch.score", "score_batch", batch.id, before={"scored_rows": None},
                 after={"scored_rows": rows, "model": batch.model.version})
    return batch


# ---------------------------------------------------------------- monitoring


def psi_report(model: Optional[ModelVersion] = None) -> dict[str, Any]:
    """PSI of the score and of each feature, by application month, against the training sample."""
    model = model or champion()
    if model is None:
        return {"model": None, "months": [], "warn": PSI_WARN, "alert": PSI_ALERT, "min_n": PSI_MIN_N}
    card = load_scorecard(model)
    ref = model.reference or {}
    rows = db.session.execute(
        select(Application.applied_on, Score.inputs).join(Score, Score.application_id == Application.id)
        .where(Score.model_id == model.id).order_by(Application.applied_on)).all()
    by_month: dict[str, list[dict]] = defaultdict(list)
    for applied_on, inputs in rows:
        by_month[applied_on.strftime("%Y-%m")].append(inputs)
    months = []
    for month, inputs in sorted(by_month.items()):
        frame = pd.DataFrame.from_records(inputs, columns=list(card.kinds))
        result = card.score_frame(frame)
        import numpy as np

        edges = ref.get("score_edges", [])
        score_bins = np.searchsorted(edges, result.raw_score, side="right")
        actual = np.bincount(score_bins, minlength=len(edges) + 1) / len(score_bins)
        score_psi = psi(ref.get("score_dist", []), actual.tolist()) if edges else None
        features = {}
        for j, b in enumerate(card.bins):
            expected = ref.get("features", {}).get(b.name)
            if expected:
                shifted = np.where(result.bin_idx[:, j] < 0, b.n_bins, result.bin_idx[:, j])
                dist = np.bincount(shifted, minlength=b.n_bins + 1) / len(shifted)
                features[b.name] = round(psi(expected, dist.tolist()), 4)
        worst = max([score_psi or 0] + list(features.values()))
        months.append({"month": month, "n": len(inputs), "score_psi": round(score_psi, 4) if score_psi is not None else None,
                       "features": features, "status": status_for(worst) if len(inputs) >= PSI_MIN_N else "few"})
    return {"model": model, "months": months, "warn": PSI_WARN, "alert": PSI_ALERT, "min_n": PSI_MIN_N}


def status_for(value: float) -> str:
    return "alert" if value >= PSI_ALERT else ("warn" if value >= PSI_WARN else "stable")
