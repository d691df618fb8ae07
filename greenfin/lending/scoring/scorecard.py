"""A points scorecard: weight-of-evidence bins, logistic regression, points scaling, reason codes.

Pure modelling code (pandas, numpy, scikit-learn); the registry in ``modelling.py`` stores
the fitted ``Scorecard`` with its metrics.

- Column types are detected: a column is numeric when at least 95% of its non-empty values
  parse as numbers; ID-like columns (named like an id/number/code with nearly unique values,
  or text with nearly unique values) and constant columns are ignored.
- Numeric bins: a shallow decision tree proposes cut points (each bin >= 3% of rows), then
  adjacent bins are pooled until the bad rate is monotonic in the direction of the rank
  correlation (amounts, ratios and years carry monotonic risk in credit data; on German credit
  and on the Guangfeng book unconstrained bins overfit the holdout). ``MONO`` > 0 lets a
  non-monotonic (e.g. U-shaped) binning stand when pooling loses more than that share of IV.
- Categories (more than eight) are grouped by bad rate into at most six groups; those seen in
  < 1% of rows share one "other" bin; missing values get their own bin when frequent enough, else a neutral WoE of 0.
- WoE = ln(share of goods / share of bads) with +0.1 smoothing of each count; features with IV < 0.02 are
  dropped, and features whose coefficient comes out with the wrong sign are dropped and the
  model refitted, so each feature's points rise with its WoE.
- Scaling: ``score = offset - factor * logit(PD)`` with ``factor = PDO / ln 2`` and
  ``offset = base_points - factor * ln(base_odds)`` (odds good:bad): 600 points at 50:1, +20
  points doubles the odds. Points per attribute are ``-factor * beta_j * woe``; the intercept's
  share is in ``base_points``.
- Reason codes: for each feature, the points this applicant lost against the feature's best
  attribute; the top four with a loss are reported.

Scoring is row-wise arithmetic done feature by feature (no matrix products), so a record
scored alone gets exactly the score it gets in a batch. Data reading is in ``data.py``, binning in ``bins.py``, scaling in
``points.py``; ``compiled.py`` holds the fast path:
the fitted card as numpy arrays (bin edges, category -> bin, points and reason-rank tables).
"""
from __future__ import annotations

import hashlib
import io
import pickle
import re
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from greenfin.lending.labels import bin_label, feature_label
from greenfin.lending.scoring.bins import MIN_IV, FeatureBins, fit_bins
from greenfin.lending.scoring.compiled import CompiledScorecard
from greenfin.lending.pricing import APPROVE_AT
from greenfin.lending.scoring.data import (DEFAULT_PROTECTED, TrainingError, clean_features, detect_columns, on_grid,
                                           protected_columns, target_vector)
from greenfin.lending.scoring.points import Scaling, ScoreResult

MAX_FEATURES = 30
# Plain-language texts for the features of the Guangfeng loan book; others get a generic text.
FEATURE_TEXT = {
    "eco_colour": ("生态信用等级偏低", "Eco-credit rating below the best level"),
    "collateral_coverage": ("抵质押物覆盖率不足", "Collateral covers too little of the loan"),
    "debt_to_income": ("负债收入比偏高", "Debts are high relative to income"),
    "loan_to_income": ("贷款金额相对收入偏高", "Loan amount is high relative to income"),
    "years_in_business": ("经营年限较短", "Short time in business"),
    "guarantor_count": ("担保人不足", "Few or no guarantors"),
    "sector": ("所属行业风险较高", "Sector with higher observed risk"),
    "township": ("所在乡镇历史违约率较高", "Township with higher observed default"),
    "party_kind": ("主体类型历史违约率较高", "Borrower type with higher observed default"),
    "term_months": ("贷款期限风险较高", "Loan term with higher observed risk"),
    "amount": ("贷款金额风险较高", "Loan amount with higher observed risk"),
    "product": ("贷款产品历史违约率较高", "Loan product with higher observed default"),
    "asset_to_debt": ("资产对负债的保障不足", "Assets cover debts thinly"),
}


# ---------------------------------------------------------------- the scorecard


class _Unpickler(pickle.Unpickler):
    """Reads artefacts pickled before scoring became a subpackage (``greenfin.lending.scorecard``)."""

    MOVED = {"FeatureBins": "greenfin.lending.scoring.bins", "Scaling": "greenfin.lending.scoring.points",
             "ScoreResult": "greenfin.lending.scoring.points"}

    def find_class(self, module: str, name: str):
        if module == "greenfin.lending.scorecard":
            module = self.MOVED.get(name, __name__)
        return super().find_class(module, name)


class Scorecard:
    """A fitted points scorecard. ``fit`` then ``score``; pickled into the model registry."""

    def __init__(self, scaling: Optional[Scaling] = None, C: float = 1.0):
        self.scaling = scaling or Scaling()
        self.C = C
        self.kinds: dict[str, str] = {}
        self.ignored: dict[str, str] = {}
        self.bins: list[FeatureBins] = []
        self.intercept = 0.0
        self.coefs: list[float] = []
        self.base_points = 0.0
        self.model: Optional[LogisticRegression] = None

    @property
    def features(self) -> list[str]:
        return [b.name for b in self.bins]

    # -- fitting

    def fit(self, frame: pd.DataFrame, y: np.ndarray, kinds: dict[str, str],
            candidates: Optional[list[FeatureBins]] = None) -> "Scorecard":
        """Bin each column (or take ``candidates``, bins already fitted on these rows: they are
        changed), then fit the logistic regression with this card's ``C``."""
        y = np.asarray(y, dtype=float)
        if len(np.unique(y)) < 2:
            raise TrainingError("the training data has one class only: nothing to learn")
        if candidates is None:
            candidates = self.bin_candidates(frame, y, kinds)
        while True:
            w = np.column_stack([b.lookup(b.index(frame[b.name]), b.woe, b.missing_woe) for b in candidates])
            model = LogisticRegression(C=self.C, max_iter=2000)
            model.fit(w, y)
            coefs = model.coef_[0]
            wrong = [i for i, c in enumerate(coefs) if c >= 0]
            if not wrong or len(wrong) == len(candidates):
                break
            for i in sorted(wrong, reverse=True):
                self.ignored[candidates[i].name] = "dropped: sign against its WoE (collinear)"
                del candidates[i]
        self.bins, self.model = candidates, model
        self.kinds = {b.name: kinds[b.name] for b in candidates}
        self.intercept = float(model.intercept_[0])
        self.coefs = [float(c) for c in model.coef_[0]]
        f = self.scaling.factor
        self.base_points = on_grid(self.scaling.offset - f * self.intercept)
        for b, beta in zip(self.bins, self.coefs):
            b.points = [on_grid(-f * beta * w) for w in b.woe]
            b.missing_points = on_grid(-f * beta * b.missing_woe)
        self.__dict__.pop("_compiled", None)
        return self

    def bin_candidates(self, frame: pd.DataFrame, y: np.ndarray, kinds: dict[str, str]) -> list[FeatureBins]:
        """The bins of each column strong enough to be a feature (the strongest ``MAX_FEATURES``);
        why the others are left out goes to ``ignored``."""
        candidates = []
        for col, kind in kinds.items():
            try:
                bins = fit_bins(col, kind, frame[col], y)
            except TrainingError:
                self.ignored[col] = "too few values"
                continue
            if bins.iv >= MIN_IV and bins.n_bins >= 2:
                candidates.append(bins)
            else:
                self.ignored[col] = f"weak (IV {bins.iv:.3f})"
        candidates.sort(key=lambda b: -b.iv)
        for b in candidates[MAX_FEATURES:]:
            self.ignored[b.name] = "beyond the strongest features"
        candidates = candidates[:MAX_FEATURES]
        if not candidates:
            raise TrainingError("no column separates good from bad (all information values below 0.02)")
        return candidates

    def recalibrate(self, slope: float, intercept: float) -> "Scorecard":
        """Platt scaling folded into the points: logit(PD) becomes ``slope * logit(PD) + intercept``
        (every attribute's points times ``slope``, the base points moved), so the card stays a
        points card and its ranking is unchanged (``slope`` > 0)."""
        if slope <= 0:
            raise TrainingError("a recalibration slope must be positive")
        offset, f = self.scaling.offset, self.scaling.factor
        self.intercept = slope * self.intercept + intercept
        self.coefs = [slope * c for c in self.coefs]
        if self.model is not None:
            self.model.coef_ = self.model.coef_ * slope
            self.model.intercept_ = np.array([self.intercept])
        self.base_points = on_grid(offset - f * self.intercept)
        for b, beta in zip(self.bins, self.coefs):
            b.points = [on_grid(-f * beta * w) for w in b.woe]
            b.missing_points = on_grid(-f * beta * b.missing_woe)
        self.__dict__.pop("_compiled", None)
        return self

    # -- scoring

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        return clean_features(frame, self.kinds)

    def bin_indices(self, frame: pd.DataFrame) -> np.ndarray:
        idx = np.empty((len(frame), len(self.bins)), dtype=np.int64, order="F")
        for j, b in enumerate(self.bins):
            idx[:, j] = b.index(frame[b.name]) if b.name in frame else -1
        return idx

    def woe_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        idx = self.bin_indices(frame)
        return np.column_stack([b.lookup(idx[:, j], b.woe, b.missing_woe) for j, b in enumerate(self.bins)])

    def compiled(self) -> CompiledScorecard:
        """The scorecard as numpy arrays for scoring, built once (not pickled with the artefact)."""
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self._compiled = CompiledScorecard(self.bins, self.base_points)
        return compiled

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_compiled", None)
        return state

    def score_frame(self, frame: pd.DataFrame) -> ScoreResult:
        """Score raw rows (text or numbers, as read from a CSV or built from an application)."""
        return self.compiled().score(lambda name: frame[name] if name in frame else None, len(frame), self)

    def reasons_for(self, result: ScoreResult, row: int) -> list[dict[str, Any]]:
        """The reason codes of one scored row, in Chinese and English."""
        table = result.reasons
        return [self._reason(int(table.rank_feature[r]), int(table.rank_bin[r]), table.rank_loss[r])
                for r in result.reason_rank[row] if table.rank_feature[r] >= 0]

    def _reason(self, j: int, bin_index: int, lost: float) -> dict[str, Any]:
        b = self.bins[j]
        zh, en = FEATURE_TEXT.get(b.name) or (f"“{feature_label(b.name, 'zh')}”的取值拉低了评分",
                                              f"The value of '{feature_label(b.name, 'en')}' lowered the score")
        return {"code": f"RC_{re.sub(r'[^A-Z0-9]+', '_', b.name.upper())}", "feature": b.name,
                "value": b.label(bin_index), "points_lost": round(float(lost), 1),
                "zh": f"{zh}（{bin_label(b, bin_index, 'zh')}）", "en": f"{en} ({bin_label(b, bin_index, 'en')})"}

    def reason_columns(self, result: ScoreResult) -> dict[str, np.ndarray]:
        """``reason_1..4`` (codes) and ``reason_1..4_text`` ("zh / en") of every row of a batch,
        as ``reasons_for`` words them ("" where a row has fewer reasons); one text per rank."""
        table = result.reasons
        codes = np.full(len(table.rank_feature), "", dtype=object)
        texts = codes.copy()
        for r in np.flatnonzero(table.rank_feature >= 0):
            reason = self._reason(int(table.rank_feature[r]), int(table.rank_bin[r]), 0.0)
            codes[r], texts[r] = reason["code"], f"{reason['zh']} / {reason['en']}"
        out = {}
        for k in range(result.reason_rank.shape[1]):
            rank = result.reason_rank[:, k]
            out[f"reason_{k + 1}"], out[f"reason_{k + 1}_text"] = codes.take(rank), texts.take(rank)
        return out

    def score_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Score dicts of raw values (one application from the API): no DataFrame, each value as given."""
        columns = {}
        for name in self.kinds:
            column = columns[name] = np.empty(len(records), dtype=object)
            for i, record in enumerate(records):
                column[i] = record.get(name)
        result = self.compiled().score(columns.get, len(records), self)
        return [{"score": int(result.score[i]), "pd": float(result.pd[i]), "reasons": self.reasons_for(result, i)}
                for i in range(len(records))]

    # -- artefact

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=5)
        return buffer.getvalue()

    @staticmethod
    def loads(blob: bytes) -> "Scorecard":
        return _Unpickler(io.BytesIO(blob)).load()  # artefacts come from our own registry table only

    def card_table(self, language: Optional[str] = None) -> list[dict[str, Any]]:
        """One row per bin; with ``language`` (``zh``/``en``) the feature and bin are in words for people."""
        rows = []
        for b in self.bins:
            feature = feature_label(b.name, language) if language else b.name
            for i, label in enumerate(b.labels):
                rows.append({"feature": feature, "bin": bin_label(b, i, language) if language else label,
                             "count": b.counts[i], "bad_rate": b.bad_rates[i], "woe": b.woe[i], "points": b.points[i]})
            if b.missing_count:
                rows.append({"feature": feature, "bin": bin_label(b, -1, language) if language else "missing",
                             "count": b.missing_count, "bad_rate": b.missing_bad_rate, "woe": b.missing_woe,
                             "points": b.missing_points})
        return rows


# ---------------------------------------------------------------- metrics and training


def metrics(y: np.ndarray, pd_: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, dtype=float)
    if len(np.unique(y)) < 2:
        return {"auc": None, "ks": None, "gini": None, "brier": float(brier_score_loss(y, pd_)) if len(y) else None}
    auc = float(roc_auc_score(y, pd_))
    fpr, tpr, _ = roc_curve(y, pd_)
    return {"auc": round(auc, 4), "ks": round(float(np.max(tpr - fpr)), 4), "gini": round(2 * auc - 1, 4),
            "brier": round(float(brier_score_loss(y, pd_)), 4)}


def frame_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame.astype("string"), index=False).to_numpy().tobytes())
    return digest.hexdigest()


SEGMENT_COLUMNS = ("township", "party_kind")
# Uncertainty: repeated stratified folds on the training rows (at most CV_MAX_ROWS of them, a
# stratified sample beyond), and bootstrap resamples of the test rows.
CV_FOLDS, CV_REPEATS, CV_MAX_ROWS = 5, 2, 10_000
BOOTSTRAP, LEVEL = 200, 0.95
RELIABILITY_BINS = 10
# Regularisation strengths (inverse, of the logistic regression) chosen among out of fold; 1.0
# is what training used before the choice, and is used when there is too little data to fold.
C_GRID = (0.3, 1.0)


def _spread(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    return {"mean": round(float(a.mean()), 4), "sd": round(float(a.std(ddof=1)) if len(a) > 1 else 0.0, 4),
            "min": round(float(a.min()), 4), "max": round(float(a.max()), 4)}


def cross_validate(x: pd.DataFrame, y: np.ndarray, kinds: dict[str, str], scaling: Optional[Scaling],
                   seed: int) -> tuple[Optional[dict[str, Any]], Optional[np.ndarray], np.ndarray]:
    """AUC, KS and Brier over ``CV_REPEATS`` x ``CV_FOLDS`` stratified folds of the (cleaned)
    training rows, for each regularisation strength of ``C_GRID``: each fold's bins are fitted
    once, then a logistic regression per ``C``. The ``C`` chosen is the strongest regularisation
    whose mean AUC is within one standard error of the best mean (the one-standard-error rule).

    Returns (summary of the chosen ``C`` with ``C`` and the grid, the out-of-fold PDs of the
    chosen ``C`` in the first repeat, the rows they are for); (None, None, rows) when a class has
    too few rows to fold."""
    import copy

    from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

    rows = np.arange(len(y))
    if len(rows) > CV_MAX_ROWS:
        rows, _ = train_test_split(rows, train_size=CV_MAX_ROWS, random_state=seed, stratify=y)
        rows = np.sort(rows)
    yy = y[rows]
    if min(np.bincount(yy.astype(int), minlength=2)) < 2 * CV_FOLDS:
        return None, None, rows
    xx = x.iloc[rows].reset_index(drop=True)
    folds = RepeatedStratifiedKFold(n_splits=CV_FOLDS, n_repeats=CV_REPEATS, random_state=seed)
    found = {c: {"auc": [], "ks": [], "brier": []} for c in C_GRID}
    oof = {c: np.full(len(rows), np.nan) for c in C_GRID}
    for k, (fit_rows, held) in enumerate(folds.split(xx, yy)):
        fit_x, held_x = xx.iloc[fit_rows].reset_index(drop=True), xx.iloc[held].reset_index(drop=True)
        try:
            candidates = Scorecard(scaling).bin_candidates(fit_x, yy[fit_rows], kinds)
        except TrainingError:
            continue
        for c in C_GRID:
            card = Scorecard(scaling, C=c).fit(fit_x, yy[fit_rows], kinds, copy.deepcopy(candidates))
            p = card.score_frame(held_x).pd
            m = metrics(yy[held], p)
            if m["auc"] is not None:
                for name in found[c]:
                    found[c][name].append(m[name])
            if k < CV_FOLDS:
                oof[c][held] = p
    if not found[C_GRID[0]]["auc"]:
        return None, None, rows
    grid = {c: {name: _spread(v) for name, v in f.items()} for c, f in found.items()}
    best = max(C_GRID, key=lambda c: grid[c]["auc"]["mean"])
    fits = len(found[best]["auc"])
    floor = grid[best]["auc"]["mean"] - grid[best]["auc"]["sd"] / np.sqrt(fits)
    chosen = min(c for c in C_GRID if grid[c]["auc"]["mean"] >= floor)
    summary = {**grid[chosen], "C": chosen, "best_C": best, "auc_floor": float(floor),
               "grid": [{"C": c, "auc": grid[c]["auc"]["mean"], "brier": grid[c]["brier"]["mean"]} for c in C_GRID],
               "folds": CV_FOLDS, "repeats": CV_REPEATS, "fits": fits, "rows": int(len(rows))}
    return summary, (oof[chosen] if not np.isnan(oof[chosen]).any() else None), rows


def auc_ks(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """AUC and KS from the (weighted) counts of bads ``pos`` and goods ``neg`` at each distinct
    PD, in rising order of PD (ties count a half, as ``roc_auc_score`` counts them)."""
    total_pos, total_neg = pos.sum(), neg.sum()
    neg_below = np.cumsum(neg) - neg
    auc = float((pos * (neg_below + 0.5 * neg)).sum() / (total_pos * total_neg))
    ks = float(max(0.0, np.max(np.cumsum(neg) / total_neg - np.cumsum(pos) / total_pos)))
    return auc, ks


def bootstrap_intervals(y: np.ndarray, p: np.ndarray, resamples: int = BOOTSTRAP, seed: int = 0,
                        level: float = LEVEL) -> Optional[dict[str, Any]]:
    """Percentile bootstrap intervals of the AUC and KS of PDs ``p`` for outcomes ``y`` (rows
    resampled with replacement, ``resamples`` times)."""
    y = np.asarray(y, dtype=float)
    if len(np.unique(y)) < 2:
        return None
    order = np.argsort(p, kind="stable")
    p, y = np.asarray(p)[order], y[order]
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    rng = np.random.default_rng(seed)
    aucs, kss = [], []
    for _ in range(resamples):
        w = np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)).astype(float)
        pos, neg = np.add.reduceat(w * y, starts), np.add.reduceat(w * (1 - y), starts)
        if pos.sum() == 0 or neg.sum() == 0:
            continue
        auc, ks = auc_ks(pos, neg)
        aucs.append(auc)
        kss.append(ks)
    tails = [(1 - level) / 2, 1 - (1 - level) / 2]
    return {"level": level, "resamples": len(aucs),
            "auc": [round(float(v), 4) for v in np.quantile(aucs, tails)],
            "ks": [round(float(v), 4) for v in np.quantile(kss, tails)]}


def calibration(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Out-of-fold calibration: the reliability table (PD deciles: mean PD against the observed bad
    rate), and the slope and intercept of the logistic regression of the outcome on logit(PD)
    (1 and 0 when calibrated)."""
    logit = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1))
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logit[:, None], y)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, RELIABILITY_BINS + 1)[1:-1]))
    group = np.searchsorted(edges, p, side="right")
    table = []
    for g in np.unique(group):
        rows = group == g
        table.append({"n": int(rows.sum()), "mean_pd": round(float(p[rows].mean()), 4),
                      "bad_rate": round(float(y[rows].mean()), 4)})
    return {"slope": round(float(fit.coef_[0][0]), 4), "intercept": round(float(fit.intercept_[0]), 4),
            "brier": round(float(brier_score_loss(y, p)), 4), "reliability": table, "platt": (fit.coef_[0][0], fit.intercept_[0])}


@dataclass
class TrainingResult:
    scorecard: Scorecard
    metrics: dict[str, Any]
    reference: dict[str, Any]
    data_hash: str


FOUR_FIFTHS = 0.8


def adverse_impact(values: pd.Series, score: np.ndarray, pd_: np.ndarray, approve_at: int = APPROVE_AT) -> dict[str, Any]:
    """Approval rate (score at or above ``approve_at``) and mean PD by value of a protected
    column, each group's approval rate against the highest group's (the four-fifths ratio)."""
    text = values.astype("string").str.strip()
    text = text.mask(text == "").fillna("missing").to_numpy(dtype=object)
    groups = {}
    for value in sorted(set(text)):
        rows = text == value
        groups[value] = {"n": int(rows.sum()), "approval_rate": round(float(np.mean(score[rows] >= approve_at)), 4),
                         "mean_pd": round(float(np.mean(pd_[rows])), 4)}
    best = max(g["approval_rate"] for g in groups.values())
    for g in groups.values():
        g["ratio"] = round(g["approval_rate"] / best, 4) if best > 0 else None
    ratios = [g["ratio"] for g in groups.values() if g["ratio"] is not None]
    return {"approve_at": approve_at, "groups": groups, "min_ratio": min(ratios) if ratios else None,
            "passes": bool(min(ratios) >= FOUR_FIFTHS) if ratios else None}


def platt_brier(y: np.ndarray, p: np.ndarray, seed: int) -> float:
    """Brier score of Platt-recalibrated out-of-fold PDs, itself out of fold: each fold's PDs are
    recalibrated by a fit on the other folds'."""
    from sklearn.model_selection import StratifiedKFold

    logit = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1))[:, None]
    out = np.empty(len(y))
    for fit_rows, held in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed).split(logit, y):
        out[held] = LogisticRegression(C=1e6, max_iter=1000).fit(logit[fit_rows], y[fit_rows]).predict_proba(logit[held])[:, 1]
    return round(float(brier_score_loss(y, out)), 4)


def train(frame: pd.DataFrame, target: str, bad_value: Optional[str] = None, test_frame: Optional[pd.DataFrame] = None,
          scaling: Optional[Scaling] = None, seed: int = 42, protected=DEFAULT_PROTECTED,
          include_protected=(), uncertainty: bool = True) -> TrainingResult:
    """Fit a scorecard on ``frame`` and evaluate it on ``test_frame`` or a stratified 30% holdout.

    Columns revealing a protected attribute (``protected``: keys of ``data.PROTECTED`` or column
    names) are left out unless named in ``include_protected``; either way they feed the
    adverse-impact report (``metrics["adverse_impact"]``) and are named in ``metrics["protected"]``."""
    from sklearn.model_selection import train_test_split

    if frame.empty:
        raise TrainingError("the CSV has no rows")
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    y_all = target_vector(frame, target, bad_value)
    keep = y_all.notna().to_numpy()
    frame, y_all = frame[keep].reset_index(drop=True), y_all[keep].to_numpy(dtype=float)
    if len(np.unique(y_all)) < 2:
        raise TrainingError(f"target column '{target}' has one class only: nothing to learn")
    if min(np.bincount(y_all.astype(int))) < 5:
        raise TrainingError(f"target column '{target}' has fewer than 5 rows of one class")
    kinds, ignored = detect_columns(frame, target)
    found = protected_columns(frame, target, protected)
    include_protected = [str(c).strip() for c in include_protected or ()]
    unknown = [c for c in include_protected if c not in found]
    if unknown:
        raise TrainingError(f"--include-protected names no protected column of the data: {', '.join(unknown)} "
                            f"(protected columns found: {', '.join(found) or 'none'})")
    dropped = {c: a for c, a in found.items() if c not in include_protected}
    for col in dropped:
        kinds.pop(col, None)
        ignored[col] = "protected attribute"
    if not kinds:
        raise TrainingError("no usable feature columns (all empty, constant or ID-like)")
    if test_frame is not None:
        test_frame = test_frame.copy()
        test_frame.columns = [str(c).strip() for c in test_frame.columns]
        y_test_s = target_vector(test_frame, target, bad_value)
        tkeep = y_test_s.notna().to_numpy()
        train_x, test_x = frame, test_frame[tkeep].reset_index(drop=True)
        y_train, y_test = y_all, y_test_s[tkeep].to_numpy(dtype=float)
    else:
        train_idx, test_idx = train_test_split(np.arange(len(frame)), test_size=0.3, random_state=seed, stratify=y_all)
        train_x, test_x = frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx].reset_index(drop=True)
        y_train, y_test = y_all[train_idx], y_all[test_idx]
    card = Scorecard(scaling)
    card.ignored.update(ignored)
    clean_train = clean_features(train_x, kinds)
    uncertain: dict[str, Any] = {}
    cv, oof, cv_rows = cross_validate(clean_train, y_train, kinds, scaling, seed) if uncertainty else (None, None, None)
    card.C = cv["C"] if cv else card.C
    card.fit(clean_train, y_train, kinds)
    if uncertainty:  # out of fold on the training rows: the test rows are used once, below
        uncertain["cv"] = cv
        if oof is not None:
            calib = calibration(y_train[cv_rows], oof)
            slope, intercept = calib.pop("platt")
            calib["brier_recalibrated"] = platt_brier(y_train[cv_rows], oof, seed)
            calib["recalibrated"] = bool(calib["brier_recalibrated"] < calib["brier"] and slope > 0)
            uncertain["calibration"] = calib
            if calib["recalibrated"]:
                card.recalibrate(slope, intercept)
    test_result = card.score_frame(test_x)
    train_result = card.score_frame(train_x)
    result = metrics(y_test, test_result.pd)
    result.update({"n_train": int(len(y_train)), "n_test": int(len(y_test)),
                   "bad_rate": round(float(np.mean(y_all)), 4),
                   "train_auc": metrics(y_train, train_result.pd)["auc"]})
    if uncertainty:
        result.update(uncertain, bootstrap=bootstrap_intervals(y_test, test_result.pd, seed=seed))
    segments = {}
    for col in SEGMENT_COLUMNS:
        if col in test_x.columns:
            seg = {}
            for value, rows in test_x.groupby(test_x[col].astype(str)).groups.items():
                rows = np.asarray(list(rows))
                m = metrics(y_test[rows], test_result.pd[rows]) if len(rows) >= 30 else {"auc": None}
                seg[value] = {"n": int(len(rows)), "bad_rate": round(float(np.mean(y_test[rows])), 4), "auc": m.get("auc"),
                              "mean_pd": round(float(np.mean(test_result.pd[rows])), 4)}
            segments[col] = seg
    result["segments"] = segments
    result["ignored"] = card.ignored
    result["protected"] = {"dropped": dropped, "included": {c: found[c] for c in include_protected}}
    if found:
        everyone = card.score_frame(frame)
        result["adverse_impact"] = {c: {"attribute": a, **adverse_impact(frame[c], everyone.score, everyone.pd)}
                                    for c, a in found.items()}
    # Reference distributions for the population stability index (training sample).
    edges = np.unique(np.quantile(train_result.raw_score, np.linspace(0.1, 0.9, 9))).tolist()
    score_bins = np.searchsorted(edges, train_result.raw_score, side="right")
    reference = {
        "score_edges": edges,
        "score_dist": (np.bincount(score_bins, minlength=len(edges) + 1) / len(score_bins)).tolist(),
        "features": {b.name: _distribution(train_result.bin_idx[:, j], b.n_bins) for j, b in enumerate(card.bins)},
    }
    return TrainingResult(card, result, reference, frame_hash(frame))


def _distribution(idx: np.ndarray, n_bins: int) -> list[float]:
    """Shares of bins 0..n-1 then missing (last)."""
    shifted = np.where(idx < 0, n_bins, idx)
    return (np.bincount(shifted, minlength=n_bins + 1) / max(len(idx), 1)).tolist()


def psi(expected: list[float], actual: list[float], eps: float = 1e-4) -> float:
    """Population stability index: sum((a - e) * ln(a / e)) over bins."""
    e = np.maximum(np.asarray(expected, dtype=float), eps)
    a = np.maximum(np.asarray(actual, dtype=float), eps)
    return float(np.sum((a - e) * np.log(a / e)))
