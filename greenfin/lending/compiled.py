"""A fitted scorecard compiled into plain numpy arrays: the fast scoring path.

``Scorecard.compiled()`` builds this once per model (it is not pickled with the artefact), and
``Scorecard.score_frame`` and ``Scorecard.score_records`` both go through it, so a batch of
100,000 rows and a single application use the same arrays:

- bin codes (int8): per numeric feature the number of cut points <= x, a few vector
  comparisons (cheaper than a binary search for at most eight edges); per categorical
  feature the category -> bin mapping applied once per distinct value (``pd.factorize``), or
  once per category for a pandas Categorical column;
- points: per feature a table of points per bin (the missing bin in slot 0), read with the
  codes. The total is added feature by feature in the card's order, so
  it equals the reference sum bit for bit, and PD follows from it as before;
- reason codes: every (feature, bin) losing more than 0.5 points against the feature's best
  attribute gets a global rank, by points lost (descending) then feature (ascending), which is
  the reference order (repeated maximum, the first feature wins ties). Each row holds one rank
  per feature, so its reasons are its four smallest ranks, kept while the features are added
  up by a small sorting network of vector minima and maxima on uint8.

The costly step left is turning Python objects into numbers: hashing text cells (about 30 ns a
cell) and unboxing object-dtype numbers (about 12 ns a cell). Typed columns (float64 with NaN,
pandas Categorical) skip it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
import pandas as pd

from greenfin.lending.scorecard import FeatureBins, ScoreResult, numeric_values

if TYPE_CHECKING:
    from greenfin.lending.scorecard import Scaling, Scorecard

REASONS = 4
MIN_REASON_LOSS = 0.5  # points lost below this are not reported
MAX_BLOCK = 32_768  # rows per block in step 2, so its working set (< 1 MB) stays in the L2 cache

# A column getter: the raw values of a feature (pandas Series, numpy array), or None when absent.
Columns = Callable[[str], Optional[object]]


class CompiledScorecard:
    """Bins, points and reason ranks of a fitted scorecard as numpy arrays.

    Internally a bin code is the bin + 1, with 0 for missing, so every table look-up is a plain
    non-negative ``take`` (the missing slot first); ``ScoreResult.bin_idx`` is code - 1.
    """

    def __init__(self, bins: list[FeatureBins]):
        self.bins = list(bins)
        self.names = [b.name for b in self.bins]
        self.numeric = [b.kind == "numeric" for b in self.bins]
        self.edges = [np.asarray(b.edges, dtype=float) for b in self.bins]
        # Points per code: missing first, then the bins (FeatureBins.lookup's table, rotated).
        self.points = [np.concatenate([[b.missing_points], np.asarray(b.points, dtype=float)]) for b in self.bins]
        self.code_dtype = np.int8 if max((len(t) for t in self.points), default=0) <= 127 else np.int16
        # Global reason ranks: (points lost desc, feature asc); bins losing <= 0.5 get the sentinel.
        pairs = []
        for j, table in enumerate(self.points):
            lost = table.max() - table  # the reference's loss, the same float operation
            pairs += [(-float(v), j, i, float(v)) for i, v in enumerate(lost) if v > MIN_REASON_LOSS]
        pairs.sort()
        self.rank_dtype = np.uint8 if len(pairs) < 255 else np.uint16
        self.no_reason = int(np.iinfo(self.rank_dtype).max)
        if len(pairs) >= self.no_reason:
            raise ValueError("too many scorecard attributes for reason ranks")
        self.ranks = [np.full(len(t), self.no_reason, dtype=self.rank_dtype) for t in self.points]
        self.rank_feature = np.full(self.no_reason + 1, -1, dtype=np.int64)
        self.rank_loss = np.zeros(self.no_reason + 1)
        for rank, (_neg, j, i, lost) in enumerate(pairs):
            self.ranks[j][i] = rank
            self.rank_feature[rank] = j
            self.rank_loss[rank] = lost

    # -- step 1: raw values -> bin codes

    def bin_codes(self, column: Columns, n: int) -> np.ndarray:
        """(features, rows) codes: 0 where missing (or unseen with no "other" bin), else bin + 1."""
        codes = np.empty((len(self.bins), n), dtype=self.code_dtype)
        for j in range(len(self.bins)):
            self.feature_codes(j, column(self.names[j]), codes[j])
        return codes

    def feature_codes(self, j: int, values, out: np.ndarray) -> None:
        """Codes of feature ``j`` for raw ``values`` (Series, array or None) into ``out``."""
        if values is None:
            out.fill(0)
            return
        if self.numeric[j]:
            raw = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
            x = numeric_values(raw)
            above = np.empty(len(x), dtype=bool)
            np.equal(x, x, out=above)
            np.copyto(out, above)  # 1 where present, 0 where NaN
            for edge in self.edges[j]:  # + the number of edges <= x (NaN compares false)
                np.greater_equal(x, edge, out=above)
                out += above
            return
        b = self.bins[j]
        array = values.array if isinstance(values, pd.Series) else None
        if isinstance(array, pd.Categorical) and array.categories.dtype.kind == "O":
            # Text categories: map each category once; the codes are already there (-1 = NaN).
            table, codes = b.category_table(array.categories.to_numpy()), array.codes
        else:
            raw = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
            codes, uniques = pd.factorize(raw, use_na_sentinel=True)
            table = b.category_table(uniques)
        # Slot 0 for factorize's -1 (missing); a bin b becomes code b + 1 (-1 "no bin" -> 0).
        np.concatenate([[0], table + 1]).astype(out.dtype).take(codes + 1, out=out, mode="clip")

    # -- step 2: codes -> points, PD and reason codes, a block of rows at a time

    def score_codes(self, codes: np.ndarray, base_points: float, scaling: "Scaling") -> tuple[np.ndarray, ...]:
        """Total points (summed in feature order), PD, and (rows, 4) reason features and points lost.

        Rows go in equal blocks of at most ``MAX_BLOCK`` so a feature's codes, points, running
        total and the four smallest ranks stay in the L2 cache between the steps (whole
        100,000-row columns do not; 100,000 rows go as 4 x 25,000).
        """
        k, n = codes.shape
        raw, pd_ = np.full(n, float(base_points)), np.empty(n)
        reason_idx, reason_loss = np.empty((REASONS, n), dtype=np.int64), np.empty((REASONS, n))
        blocks = max(-(-n // MAX_BLOCK), 1)
        width = max(-(-n // blocks), 1)  # ceil(n / blocks) rows each
        pts = np.empty(width)
        rank, spare = np.empty(width, dtype=self.rank_dtype), np.empty(width, dtype=self.rank_dtype)
        smallest = np.empty((REASONS, width), dtype=self.rank_dtype)
        for start in range(0, n, width):
            rows = slice(start, min(start + width, n))
            size = rows.stop - start
            total, p, top = raw[rows], pd_[rows], smallest[:, :size]
            top.fill(self.no_reason)
            for j in range(k):
                code = codes[j, rows].astype(np.intp)
                self.points[j].take(code, out=pts[:size], mode="clip")
                np.add(total, pts[:size], out=total)
                self.ranks[j].take(code, out=rank[:size], mode="clip")
                _insert(top, rank[:size], spare[:size])
            # score = offset - factor * logit, so the logit (and PD) follow from the points:
            # pd = 1 / (1 + exp(-(offset - total) / factor)), the reference's operations in its order.
            np.subtract(scaling.offset, total, out=p)
            np.divide(p, scaling.factor, out=p)
            np.negative(p, out=p)
            np.exp(p, out=p)
            np.add(p, 1.0, out=p)
            np.divide(1.0, p, out=p)
            for r in range(REASONS):
                self.rank_feature.take(top[r], out=reason_idx[r, rows], mode="clip")
                self.rank_loss.take(top[r], out=reason_loss[r, rows], mode="clip")
        return raw, pd_, reason_idx.T, reason_loss.T

    def score(self, column: Columns, n: int, card: "Scorecard") -> ScoreResult:
        codes = self.bin_codes(column, n)
        raw, pd_, reason_idx, reason_loss = self.score_codes(codes, card.base_points, card.scaling)
        codes -= 1
        return ScoreResult(score=np.rint(raw).astype(int), raw_score=raw, pd=pd_, reason_idx=reason_idx,
                           reason_loss=reason_loss, bin_idx=codes.T)


def _insert(top: np.ndarray, rank: np.ndarray, spare: np.ndarray) -> None:
    """Insert ``rank`` into the running four smallest ``top[0] <= ... <= top[3]`` of each row.

    A sorting-network step: top[i] becomes min(top[i], max(top[i - 1], rank)), updated from the
    last down so each uses the old value below it.
    """
    for i in range(len(top) - 1, 0, -1):
        np.maximum(top[i - 1], rank, out=spare)
        np.minimum(top[i], spare, out=top[i])
    np.minimum(top[0], rank, out=top[0])
