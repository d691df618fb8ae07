"""A fitted scorecard compiled into plain numpy arrays: the fast scoring path.

``Scorecard.compiled()`` builds this once per model (it is not pickled with the artefact), and
``Scorecard.score_frame`` and ``Scorecard.score_records`` both go through it, so a batch of
100,000 rows and a single application use the same arrays:

- bin codes (int8): per numeric feature the number of cut points <= x, a few vector
  comparisons (cheaper than a binary search for at most eight edges); per categorical
  feature the category -> bin mapping applied once per distinct value (``pd.factorize``), or
  once per category for a pandas Categorical column, then read with each row's value code;
- points: per feature a table of points per bin (the missing bin in slot 0), read with the
  codes. The total is added feature by feature in the card's order, so
  it equals the reference sum bit for bit, and PD follows from it as before;
- reason codes: every (feature, bin) losing more than 0.5 points against the feature's best
  attribute gets a global rank, by points lost (descending) then feature (ascending), which is
  the reference order (repeated maximum, the first feature wins ties). Each row holds one rank
  per feature, so its reasons are its four smallest ranks, kept while the features are added
  up by a small sorting network of vector minima and maxima on uint8.

Each raw column is prepared once: numbers as float64, text as codes of its distinct values.
The rows then go in blocks (``_score_block``), each block's codes, points, PD and reasons
computed together; a large batch goes as one block a core on as many threads (numpy releases the
GIL inside each call). The costly step left is turning Python objects into numbers: hashing text
cells (about 30 ns a cell) and unboxing object-dtype numbers (about 12 ns a cell). Typed columns
(float64 with NaN, pandas Categorical) skip it.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
import pandas as pd

from greenfin.lending.scorecard import FeatureBins, ScoreResult, numeric_values

if TYPE_CHECKING:
    from greenfin.lending.scorecard import Scaling, Scorecard

REASONS = 4
MIN_REASON_LOSS = 0.5  # points lost below this are not reported
MAX_BLOCK = 32_768  # rows per block in step 2, so its working set (< 1 MB) stays in the L2 cache
# From this many rows on, one block a core on that many threads: numpy releases the GIL inside
# each call, and blocks this large make the calls long enough for the hand-overs not to eat the gain
# (measured: two threads on two 50,000-row blocks 6.7 ms, one thread on 25,000-row blocks 8.0 ms,
# two threads on 25,000-row blocks 8.5 ms).
PARALLEL_MIN_ROWS = 65_536
THREADS = max(1, min(4, os.cpu_count() or 1))

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
        # The feature of each rank (-1: none), in the smallest integers that hold a feature index.
        self.rank_feature = np.full(self.no_reason + 1, -1, dtype=np.int8 if len(self.bins) < 127 else np.int32)
        self.rank_loss = np.zeros(self.no_reason + 1)
        for rank, (_neg, j, i, lost) in enumerate(pairs):
            self.ranks[j][i] = rank
            self.rank_feature[rank] = j
            self.rank_loss[rank] = lost

    # -- step 1: each raw column once (the work that holds the GIL)

    def source(self, j: int, values):
        """What block coding needs of feature ``j``'s raw column: None (absent), float64 values
        (numeric), or (table, codes) for a categorical feature: ``codes`` numbers each row's
        distinct value (-1 missing) and ``table`` gives its bin code, missing in the last slot."""
        if values is None:
            return None
        if self.numeric[j]:
            return numeric_values(values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values))
        b = self.bins[j]
        array = values.array if isinstance(values, pd.Series) else None
        if isinstance(array, pd.Categorical) and array.categories.dtype.kind == "O":
            # Text categories: map each category once; the codes are already there (-1 = NaN).
            table, codes = b.category_table(array.categories.to_numpy()), array.codes
        else:
            raw = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
            codes, uniques = pd.factorize(raw, use_na_sentinel=True)
            table = b.category_table(uniques)
        # A bin b becomes code b + 1 ("no bin" -1 becomes 0); factorize's -1 wraps to the last slot, 0.
        return np.append(table + 1, 0).astype(self.code_dtype), codes

    # -- step 2: a block of rows: codes, points, PD and reason codes (numpy releases the GIL)

    def _block_codes(self, j: int, source, rows: slice, out: np.ndarray, present: np.ndarray) -> None:
        if source is None:
            out.fill(0)
        elif isinstance(source, tuple):
            table, codes = source
            table.take(codes[rows], out=out, mode="wrap")
        else:
            x = source[rows]
            if out.dtype == np.int8:  # the comparisons' bytes are added as int8: no casting loop
                np.equal(x, x, out=out.view(np.bool_))  # 1 where present, 0 where NaN
                step = present.view(np.int8)
            else:
                np.equal(x, x, out=present)
                np.copyto(out, present)
                step = present
            for edge in self.edges[j]:  # + the number of edges <= x (NaN compares false)
                np.greater_equal(x, edge, out=present)
                np.add(out, step, out=out, casting="unsafe")

    def _score_block(self, sources: list, rows: slice, out: "_Output", base_points: float,
                     scaling: "Scaling") -> None:
        size = rows.stop - rows.start
        total, p = out.raw[rows], out.pd[rows]
        total.fill(base_points)
        pts, present = np.empty(size), np.empty(size, dtype=bool)
        rank, spare = np.empty(size, dtype=self.rank_dtype), np.empty(size, dtype=self.rank_dtype)
        top = np.full((REASONS, size), self.no_reason, dtype=self.rank_dtype)
        for j, source in enumerate(sources):
            code = out.codes[j, rows]
            self._block_codes(j, source, rows, code, present)
            index = code.astype(np.intp)
            self.points[j].take(index, out=pts, mode="clip")
            np.add(total, pts, out=total)
            self.ranks[j].take(index, out=rank, mode="clip")
            _insert(top, rank, spare)
        _pd(total, p, scaling)
        for r in range(REASONS):
            self.rank_feature.take(top[r], out=out.reason_idx[r, rows], mode="clip")
            self.rank_loss.take(top[r], out=out.reason_loss[r, rows], mode="clip")

    def score(self, column: Columns, n: int, card: "Scorecard", threads: Optional[int] = None) -> ScoreResult:
        """Score ``n`` rows: each column prepared once, then the rows in equal blocks of at most
        ``MAX_BLOCK`` (a block's working set stays in the L2 cache), or from ``PARALLEL_MIN_ROWS``
        rows on one block a thread on ``threads`` (default ``THREADS``) threads."""
        sources = [self.source(j, column(name)) for j, name in enumerate(self.names)]
        return self.score_sources(sources, n, card, threads)

    def score_sources(self, sources: list, n: int, card: "Scorecard", threads: Optional[int] = None) -> ScoreResult:
        out = _Output(len(self.bins), n, self.code_dtype, self.rank_feature.dtype)
        threads = (THREADS if threads is None else threads) if n >= PARALLEL_MIN_ROWS else 1
        blocks = threads if threads > 1 else max(-(-n // MAX_BLOCK), 1)
        width = max(-(-n // blocks), 1)
        ranges = [slice(start, min(start + width, n)) for start in range(0, n, width)]

        def run(rows: slice) -> None:
            self._score_block(sources, rows, out, card.base_points, card.scaling)

        if threads > 1:
            list(_executor(threads).map(run, ranges))
        else:
            for rows in ranges:
                run(rows)
        out.codes -= 1
        return ScoreResult(score=np.rint(out.raw).astype(int), raw_score=out.raw, pd=out.pd,
                           reason_idx=out.reason_idx.T, reason_loss=out.reason_loss.T, bin_idx=out.codes.T)


class _Output:
    """The arrays every block writes its rows into."""

    def __init__(self, k: int, n: int, code_dtype, feature_dtype):
        self.codes = np.empty((k, n), dtype=code_dtype)
        self.raw, self.pd = np.empty(n), np.empty(n)
        self.reason_idx, self.reason_loss = np.empty((REASONS, n), dtype=feature_dtype), np.empty((REASONS, n))


_EXECUTOR: Optional[tuple[int, int, ThreadPoolExecutor]] = None


def _executor(threads: int) -> ThreadPoolExecutor:
    """This process's scoring threads (made afresh in a forked child: threads do not survive a fork)."""
    global _EXECUTOR
    if _EXECUTOR is None or _EXECUTOR[:2] != (os.getpid(), threads):
        _EXECUTOR = (os.getpid(), threads, ThreadPoolExecutor(threads, thread_name_prefix="scoring"))
    return _EXECUTOR[2]


def _pd(total: np.ndarray, p: np.ndarray, scaling: "Scaling") -> None:
    """score = offset - factor * logit, so the logit (and PD) follow from the points:
    pd = 1 / (1 + exp(-(offset - total) / factor)), the reference's operations in its order."""
    np.subtract(scaling.offset, total, out=p)
    np.divide(p, scaling.factor, out=p)
    np.negative(p, out=p)
    np.exp(p, out=p)
    np.add(p, 1.0, out=p)
    np.divide(1.0, p, out=p)


def _insert(top: np.ndarray, rank: np.ndarray, spare: np.ndarray) -> None:
    """Insert ``rank`` into the running four smallest ``top[0] <= ... <= top[3]`` of each row.

    A sorting-network step: top[i] becomes min(top[i], max(top[i - 1], rank)), updated from the
    last down so each uses the old value below it.
    """
    for i in range(len(top) - 1, 0, -1):
        np.maximum(top[i - 1], rank, out=spare)
        np.minimum(top[i], spare, out=top[i])
    np.minimum(top[0], rank, out=top[0])
