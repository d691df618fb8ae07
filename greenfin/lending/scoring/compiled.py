"""A fitted scorecard compiled into plain numpy arrays: the fast scoring path.

``Scorecard.compiled()`` builds this once per model (it is not pickled with the artefact), and
``Scorecard.score_frame`` and ``Scorecard.score_records`` both go through it, so a batch of
100,000 rows and a single application use the same arrays:

- bin codes (int8, -1 for missing): per numeric feature the number of its cuts <= x less one,
  the cuts being -inf (NaN compares false) and its edges, one broadcast comparison (cheaper than
  a binary search for a few edges); per categorical feature the category -> bin mapping applied
  once per distinct value (``pd.factorize``), or once per category for a pandas Categorical
  column, then read with each row's value code;
- reason codes: every (feature, bin) losing more than 0.5 points against the feature's best
  attribute gets a global rank, by points lost (descending) then feature (ascending), which is
  the reference order (repeated maximum, the first feature wins ties). Each row holds one rank
  per feature, so its reasons are its four smallest ranks, kept while the features go by by a
  small sorting network of vector minima and maxima on uint8. The result keeps the ranks
  (``ScoreResult.reason_rank``); a rank names its feature, bin and points lost;
- points: the card's points lie on a binary grid (``data.GRID``) on which sums are exact
  in any order, so consecutive features are read together from one table of their points' sum,
  indexed by their codes together (int16 arithmetic), while the table stays below
  ``JOINT_TABLE_MAX`` entries; the total still equals the card's feature-by-feature sum bit for
  bit. A card whose points are off the grid (trained before it) reads one feature at a time in
  the card's order, which is that sum too. PD follows from the total as before.

A table look-up (``take``) is the costly vector step (about 1 ns a row, whatever the table), so
there are as few as possible: a numeric feature's rank comes from the comparisons that count its
code (rank = the missing bin's rank + the steps of the cuts passed, modulo 256, exact for any table),
and points come a group of features at a time.

Each raw column is prepared once: numbers as float64, text as codes of its distinct values.
The rows then go in blocks (``_score_block``), each block's codes, points, PD and reasons
computed together; a large batch goes as one block a core on as many threads (numpy releases the
GIL inside each call). The costly step left is turning Python objects into numbers: hashing text
cells (about 30 ns a cell) and unboxing object-dtype numbers (about 12 ns a cell). Typed columns
(float64 with NaN, pandas Categorical) skip it.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, NamedTuple, Optional, Protocol

import numpy as np
import pandas as pd

from greenfin.lending.scoring.bins import FeatureBins
from greenfin.lending.scoring.data import numeric_values, on_grid
from greenfin.lending.scoring.points import Scaling, ScoreResult


class Card(Protocol):
    """What scoring needs of a fitted scorecard (``scorecard.Scorecard`` is one)."""

    base_points: float
    scaling: Scaling


REASONS = 4
MIN_REASON_LOSS = 0.5  # points lost below this are not reported
# Rows per block in step 2: fewer numpy calls beat cache locality here (100,000 rows on one
# thread, 2026-11-29: 50,000-row blocks 4.1-4.4 ms, 25,000-row 4.4-4.9 ms, 16,384-row 4.9-5.4 ms).
MAX_BLOCK = 65_536
# From this many rows on, one block a core on that many threads: numpy releases the GIL inside
# each call, and blocks this large make the calls long enough for the hand-overs not to eat the
# gain (two threads against one, 2 shared cores, 2026-11-29: 1.00x at 100,000 rows, 1.15x at
# 150,000, 1.25-1.28x from 200,000).
PARALLEL_MIN_ROWS = 131_072
THREADS = max(1, min(4, os.cpu_count() or 1))
JOINT_TABLE_MAX = 4096  # entries of a joint points table (at most 32 KB: the L1 cache)

# A column getter: the raw values of a feature (pandas Series, numpy array), or None when absent.
Columns = Callable[[str], Optional[object]]


class Categories(NamedTuple):
    """A categorical feature's column, prepared: each row's distinct-value number (-1 missing,
    which wraps to the last slot) and, per distinct value, its bin code and reason rank."""

    values: np.ndarray
    codes: np.ndarray
    ranks: np.ndarray


class PointGroup(NamedTuple):
    """Consecutive features whose points are read together from one joint table."""

    features: list[int]
    sizes: list  # each feature's number of codes but the first's (int16 scalars): the index's radices
    points: np.ndarray  # the features' points summed, rotated so that all codes -1 read index -(strides' sum)


class CompiledScorecard:
    """Bins, points and reason ranks of a fitted scorecard as numpy arrays.

    A bin code is the bin, -1 for missing. The tables per feature hold the missing bin first and
    are read at code + 1; a group's joint table is rotated so that its features' codes in mixed
    radix (the missing ones counting -1) read it with ``take(mode="wrap")``.
    """

    def __init__(self, bins: list[FeatureBins], base_points: Optional[float] = None):
        self.bins = list(bins)
        self.names = [b.name for b in self.bins]
        self.numeric = [b.kind == "numeric" for b in self.bins]
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
        # What each rank names: its feature (-1: none), bin (-1: missing) and points lost.
        self.rank_feature = np.full(self.no_reason + 1, -1, dtype=np.int8 if len(self.bins) < 127 else np.int32)
        self.rank_bin = np.zeros(self.no_reason + 1, dtype=np.int64)
        self.rank_loss = np.zeros(self.no_reason + 1)
        for rank, (_neg, j, i, lost) in enumerate(pairs):
            self.ranks[j][i] = rank
            self.rank_feature[rank] = j
            self.rank_bin[rank] = i - 1
            self.rank_loss[rank] = lost
        self.has_reasons = [bool((t != self.no_reason).any()) for t in self.ranks]
        # A numeric feature's cuts as a column: -inf ("present": NaN compares false), then its
        # edges, so one broadcast comparison gives a row of booleans per cut, and the code is
        # their sum less one. When codes and ranks are bytes, its rank is the missing bin's rank
        # plus the sum of each cut's step (see the module's docstring), mod 256.
        self.cuts = [np.array([-np.inf, *b.edges], dtype=float)[:, None] for b in self.bins]
        self.rank_steps: list[Optional[tuple]] = [None] * len(self.bins)
        if self.code_dtype == np.int8 and self.rank_dtype == np.uint8:
            for j, table in enumerate(self.ranks):
                if self.numeric[j]:
                    steps = np.diff(table.astype(np.int64)) % 256
                    self.rank_steps[j] = (np.uint8(table[0]), steps.astype(np.uint8)[:, None])
        self.point_groups = self._point_groups(base_points)

    def _point_groups(self, base_points: Optional[float]) -> list[PointGroup]:
        """Points on ``GRID`` add up exactly in any order, so several features' points can come from
        one table of their sums, indexed by the features' codes together (one look-up instead of
        one a feature); tables stay below ``JOINT_TABLE_MAX`` entries. A card whose points are not
        on the grid (one trained before it) reads them one feature at a time in the card's order.
        """
        values = [base_points] + [v for table in self.points for v in table]
        exact = (base_points is not None and all(on_grid(v) == v for v in values)
                 and abs(base_points) + sum(float(np.abs(t).max()) for t in self.points) < 2.0 ** 16)
        groups: list[list[int]] = []
        size = 0  # the last group's joint table size
        for j, table in enumerate(self.points):
            if exact and groups and size * len(table) <= JOINT_TABLE_MAX:
                groups[-1].append(j)
                size *= len(table)
            else:
                groups.append([j])
                size = len(table)
        joint = []
        for features in groups:
            sizes = [len(self.points[j]) for j in features]
            table = functools.reduce(np.add.outer, [self.points[j] for j in features]).ravel()
            strides = np.cumprod([1] + sizes[:0:-1])
            joint.append(PointGroup(features, [np.int16(n) for n in sizes[1:]], np.roll(table, -int(strides.sum()))))
        return joint

    # -- step 1: each raw column once (the work that holds the GIL)

    def source(self, j: int, values):
        """What block coding needs of feature ``j``'s raw column: None (absent), float64 values
        (numeric), or ``Categories`` for a categorical feature."""
        if values is None:
            return None
        if self.numeric[j]:
            return numeric_values(values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values))
        b = self.bins[j]
        array = values.array if isinstance(values, pd.Series) else None
        if isinstance(array, pd.Categorical) and array.categories.dtype.kind == "O":
            # Text categories: map each category once; the codes are already there (-1 = NaN).
            table, numbers = b.category_table(array.categories.to_numpy()), array.codes
        else:
            raw = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
            numbers, uniques = pd.factorize(raw, use_na_sentinel=True)
            table = b.category_table(uniques)
        # A missing value (-1) wraps to the last slot: no bin.
        codes = np.append(table, -1)
        return Categories(numbers, codes.astype(self.code_dtype), self.ranks[j].take(codes + 1))

    # -- step 2: a block of rows: codes, points, PD and reason codes (numpy releases the GIL)

    def _score_block(self, sources: list, rows: slice, out: "_Output", base_points: float,
                     scaling: Scaling) -> None:
        b = _Block(self, out, rows)
        b.total.fill(base_points)
        b.top.fill(self.no_reason)
        for j, source in enumerate(sources):  # codes and reasons
            code = b.codes[j]
            if isinstance(source, Categories):
                values = np.asarray(source.values[rows], dtype=np.intp)  # converted once, not by each take
                source.codes.take(values, out=code, mode="wrap")
                source.ranks.take(values, out=b.rank, mode="wrap")
            elif source is not None and self.rank_steps[j] is not None:
                self._numeric_codes(j, source[rows], b, with_rank=True)
            else:  # an absent column (all missing), or codes wider than a byte
                if source is None:
                    code.fill(-1)
                else:
                    self._numeric_codes(j, source[rows], b, with_rank=False)
                self.ranks[j].take(code.astype(np.intp) + 1, out=b.rank, mode="clip")
            if self.has_reasons[j]:
                _insert(b.top_rows[:j + 1], b.rank, b.spare)
        for group in self.point_groups:  # points
            if group.sizes:
                np.copyto(b.joint, b.codes[group.features[0]])
                for j, size in zip(group.features[1:], group.sizes):
                    np.multiply(b.joint, size, out=b.joint)
                    np.add(b.joint, b.codes[j], out=b.joint, casting="unsafe")
                index = b.joint.astype(np.intp)
            else:
                index = b.codes[group.features[0]].astype(np.intp)
            group.points.take(index, out=b.pts, mode="wrap")
            np.add(b.total, b.pts, out=b.total)
        _pd(b.total, out.pd[rows], scaling)
        np.rint(b.total, out=out.score[rows], casting="unsafe")

    def _numeric_codes(self, j: int, x: np.ndarray, b: "_Block", with_rank: bool) -> None:
        """Code = the number of cuts <= x less one (see ``cuts``); with the rank too, from the
        same comparisons (int8 codes and uint8 ranks only)."""
        passed = b.passed[:len(self.cuts[j])]
        np.greater_equal(x, self.cuts[j], out=passed)
        code = b.codes[j]
        np.add.reduce(passed.view(np.int8), axis=0, dtype=code.dtype, out=code, initial=-1)
        if with_rank:
            first, steps = self.rank_steps[j]
            bytes_ = b.steps[:len(self.cuts[j])]
            np.multiply(passed.view(np.uint8), steps, out=bytes_)
            np.add.reduce(bytes_, axis=0, dtype=np.uint8, out=b.rank, initial=first)

    def score(self, column: Columns, n: int, card: Card, threads: Optional[int] = None) -> ScoreResult:
        """Score ``n`` rows: each column prepared once, then the rows in equal blocks of at most
        ``MAX_BLOCK``, or from ``PARALLEL_MIN_ROWS`` rows on one block a thread on ``threads``
        (default ``THREADS``) threads."""
        sources = [self.source(j, column(name)) for j, name in enumerate(self.names)]
        return self.score_sources(sources, n, card, threads)

    def score_sources(self, sources: list, n: int, card: Card, threads: Optional[int] = None,
                      parallel_min_rows: int = PARALLEL_MIN_ROWS) -> ScoreResult:
        out = _Output(len(self.bins), n, self.code_dtype, self.rank_dtype)
        threads = (THREADS if threads is None else threads) if n >= parallel_min_rows else 1
        blocks = threads if threads > 1 else max(-(-n // MAX_BLOCK), 1)
        width = max(-(-n // blocks), 1)
        ranges = [slice(start, min(start + width, n)) for start in range(0, n, width)]

        def run(rows: slice) -> None:
            self._score_block(sources, rows, out, card.base_points, card.scaling)

        first, rest = ranges[:1], ranges[1:]
        others = _executor(threads - 1).map(run, rest) if threads > 1 else map(run, rest)
        for rows in first:  # the calling thread takes the first block itself
            run(rows)
        list(others)
        return ScoreResult(score=out.score, raw_score=out.raw, pd=out.pd, bin_idx=out.codes.T,
                           reason_rank=out.reason_rank.T, reasons=self)


class _Block:
    """One block's rows of the output, its scratch arrays, and the views the steps use (made
    once a block: making a view costs as much as the work on a few thousand rows)."""

    def __init__(self, compiled: CompiledScorecard, out: "_Output", rows: slice):
        size = rows.stop - rows.start
        self.total, self.codes, self.top = out.raw[rows], out.codes[:, rows], out.reason_rank[:, rows]
        self.top_rows = list(self.top)
        cuts = max((len(c) for c in compiled.cuts), default=0)
        self.passed, self.steps = np.empty((cuts, size), dtype=bool), np.empty((cuts, size), dtype=np.uint8)
        self.pts = np.empty(size)
        self.rank, self.spare = np.empty(size, dtype=compiled.rank_dtype), np.empty(size, dtype=compiled.rank_dtype)
        self.joint = np.empty(size, dtype=np.int16)


class _Output:
    """The arrays every block writes its rows into."""

    def __init__(self, k: int, n: int, code_dtype, rank_dtype):
        self.codes = np.empty((k, n), dtype=code_dtype)
        self.raw, self.pd, self.score = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
        self.reason_rank = np.empty((REASONS, n), dtype=rank_dtype)


_EXECUTOR: Optional[tuple[int, int, ThreadPoolExecutor]] = None


def _executor(threads: int) -> ThreadPoolExecutor:
    """This process's scoring threads (made afresh in a forked child: threads do not survive a fork)."""
    global _EXECUTOR
    if _EXECUTOR is None or _EXECUTOR[:2] != (os.getpid(), threads):
        _EXECUTOR = (os.getpid(), threads, ThreadPoolExecutor(threads, thread_name_prefix="scoring"))
    return _EXECUTOR[2]


def _pd(total: np.ndarray, p: np.ndarray, scaling: Scaling) -> None:
    """score = offset - factor * logit, so the logit (and PD) follow from the points:
    pd = 1 / (1 + exp(-(offset - total) / factor)). ``(total - offset) / factor`` is that
    exponent bit for bit (IEEE subtraction and division are exact under a sign change)."""
    np.subtract(total, scaling.offset, out=p)
    np.divide(p, scaling.factor, out=p)
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
