"""Weight-of-evidence bins of one feature: tree (or quantile) pre-binning, monotonic pooling,
grouped categories, information value."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from greenfin.lending.scoring.data import TrainingError, numeric_values

MIN_BIN_SHARE = 0.03
RARE_SHARE = 0.01
MIN_IV = 0.02
MONO = 0.0  # share of the tree bins' IV monotonic pooling must keep (0: numeric bins always monotonic)
MAX_LEAVES = 8
PREBIN = "tree"
SMOOTH = 0.1  # added to good and bad counts of each bin (keeps WoE finite for pure bins)


def _woe(goods: np.ndarray, bads: np.ndarray, total_good: float, total_bad: float) -> np.ndarray:
    return np.log(((goods + SMOOTH) / (total_good + SMOOTH)) / ((bads + SMOOTH) / (total_bad + SMOOTH)))


def _iv(goods, bads, total_good, total_bad) -> float:
    woe = _woe(goods, bads, total_good, total_bad)
    return float(np.sum((goods / max(total_good, 1) - bads / max(total_bad, 1)) * woe))


@dataclass
class FeatureBins:
    name: str
    kind: str
    edges: list[float] = field(default_factory=list)  # numeric: interior cut points (x < edge)
    categories: dict[str, int] = field(default_factory=dict)  # categorical: value -> bin
    other_bin: Optional[int] = None
    labels: list[str] = field(default_factory=list)
    woe: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    bad_rates: list[float] = field(default_factory=list)
    missing_woe: float = 0.0
    missing_count: int = 0
    missing_bad_rate: Optional[float] = None
    iv: float = 0.0
    monotonic: Optional[str] = None  # "increasing"/"decreasing" risk, or None
    points: list[float] = field(default_factory=list)
    missing_points: float = 0.0

    @property
    def n_bins(self) -> int:
        return len(self.woe)

    def index(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Bin index per raw value; -1 for missing (or unseen with no "other" bin).

        Takes raw cells (numbers or text, surrounding spaces allowed); text is parsed once per
        distinct value. Used while fitting and for the WoE matrix; scoring goes through the
        compiled arrays (``Scorecard.compiled``), which share ``numeric_values`` and
        ``category_table`` with this.
        """
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        raw = series.to_numpy()
        if self.kind == "numeric":
            x = numeric_values(raw)
            idx = np.zeros(len(x), dtype=np.int64)
            for edge in self.edges:  # count of edges <= x
                idx += x >= edge
            idx[np.isnan(x)] = -1
            return idx
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        return np.append(self.category_table(uniques), -1)[codes]

    def category_table(self, values) -> np.ndarray:
        """Bin of each distinct raw value: its stripped text looked up, unseen -> "other", empty -> -1."""
        fallback = -1 if self.other_bin is None else self.other_bin
        table = []
        for value in values:
            text = str(value).strip()
            table.append(-1 if text == "" else self.categories.get(text, fallback))
        return np.asarray(table, dtype=np.int64)

    def lookup(self, idx: np.ndarray, table: list[float], missing: float) -> np.ndarray:
        arr = np.append(np.asarray(table, dtype=float), missing)  # index -1 -> missing
        return arr[idx]

    def label(self, i: int) -> str:
        return "missing" if i < 0 else self.labels[i]


def _numeric_bins(name: str, x: np.ndarray, y: np.ndarray, total_good: float, total_bad: float) -> FeatureBins:
    n = len(x)
    leaf = max(int(MIN_BIN_SHARE * n), 10)
    if PREBIN == "quantile":
        qs = np.unique(np.quantile(x, np.linspace(0, 1, int(1 / MIN_BIN_SHARE) + 1)[1:-1]))
        cuts = [float(q) for q in qs if (x < q).sum() >= leaf and (x >= q).sum() >= leaf]
    else:
        tree = DecisionTreeClassifier(max_leaf_nodes=MAX_LEAVES, min_samples_leaf=leaf, random_state=0)
        tree.fit(x.reshape(-1, 1), y)
        cuts = sorted({float(t) for t in tree.tree_.threshold if t != -2})

    def stats(edges):
        idx = np.searchsorted(np.asarray(edges), x, side="right")
        k = len(edges) + 1
        bads = np.bincount(idx, weights=y, minlength=k)
        counts = np.bincount(idx, minlength=k).astype(float)
        return counts, bads

    tree_edges = cuts
    counts, bads = stats(tree_edges)
    tree_iv = _iv(counts - bads, bads, total_good, total_bad)
    # Trend from the rank correlation of x and the target.
    corr = pd.Series(x).rank().corr(pd.Series(y)) if np.std(y) > 0 else 0.0
    increasing = (corr or 0.0) >= 0
    mono_edges = list(tree_edges)
    while True:
        counts_m, bads_m = stats(mono_edges)
        rates = bads_m / np.maximum(counts_m, 1)
        violation = None
        for i in range(len(rates) - 1):
            if (increasing and rates[i + 1] < rates[i]) or (not increasing and rates[i + 1] > rates[i]):
                violation = i
                break
        if violation is None:
            break
        del mono_edges[violation]
    mono_iv = _iv(counts_m - bads_m, bads_m, total_good, total_bad)
    use_mono = mono_iv >= MONO * tree_iv or tree_iv < 0.1 or len(tree_edges) <= 1
    edges = mono_edges if use_mono else tree_edges
    counts, bads = stats(edges)
    goods = counts - bads
    woe = _woe(goods, bads, total_good, total_bad)
    labels = []
    bounds = [-math.inf] + edges + [math.inf]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        lo_s = "" if lo == -math.inf else f"{lo:.4g}"
        hi_s = "" if hi == math.inf else f"{hi:.4g}"
        labels.append(f"< {hi_s}" if not lo_s else (f">= {lo_s}" if not hi_s else f"[{lo_s}, {hi_s})"))
    return FeatureBins(name=name, kind="numeric", edges=list(edges), labels=labels, woe=woe.tolist(),
                       counts=counts.astype(int).tolist(), bad_rates=(bads / np.maximum(counts, 1)).tolist(),
                       iv=_iv(goods, bads, total_good, total_bad),
                       monotonic=("increasing" if increasing else "decreasing") if use_mono and len(edges) else None)


def _categorical_bins(name: str, x: pd.Series, y: np.ndarray, total_good: float, total_bad: float) -> FeatureBins:
    """Categories grouped by bad rate: rare ones pooled into "other", the rest ordered by their
    smoothed bad rate and, when there are more than eight, split into at most six groups (each >= 3% of rows) by a shallow tree."""
    n = len(x)
    text = x.astype(str)
    freq = text.value_counts()
    rare_limit = max(RARE_SHARE * n, 10)
    common = [v for v, c in freq.items() if c >= rare_limit]
    prior = float(y.mean())
    stats = pd.DataFrame({"v": text.to_numpy(), "y": y}).groupby("v")["y"].agg(["sum", "count"])
    rate = ((stats["sum"] + 2 * prior) / (stats["count"] + 2)).to_dict()
    common.sort(key=lambda v: rate[v])
    group_of: dict[str, int] = {}
    if 0 < len(common) <= 8:
        group_of = {v: i for i, v in enumerate(common)}
    elif common:
        rank = {v: i for i, v in enumerate(common)}
        mask = text.isin(common).to_numpy()
        ranks = text[mask].map(rank).to_numpy(dtype=float)
        leaf = max(int(MIN_BIN_SHARE * n), 10)
        tree = DecisionTreeClassifier(max_leaf_nodes=6, min_samples_leaf=leaf, random_state=0)
        tree.fit(ranks.reshape(-1, 1), y[mask])
        cuts = sorted(float(t) for t in tree.tree_.threshold if t != -2)
        for v, r in rank.items():
            group_of[v] = int(np.searchsorted(cuts, r, side="right"))
    n_groups = (max(group_of.values()) + 1) if group_of else 0
    labels = []
    for g in range(n_groups):
        members = [v for v in common if group_of[v] == g]
        label = ", ".join(members[:4]) + (f" (+{len(members) - 4})" if len(members) > 4 else "")
        labels.append(label)
    other_bin = n_groups
    labels.append("other")
    categories = {str(v): group_of.get(str(v), other_bin) for v in freq.index}
    idx = text.map(categories).to_numpy(dtype=np.int64)
    k = len(labels)
    bads = np.bincount(idx, weights=y, minlength=k)
    counts = np.bincount(idx, minlength=k).astype(float)
    goods = counts - bads
    woe = _woe(goods, bads, total_good, total_bad)
    if counts[other_bin] < rare_limit:
        woe[other_bin] = 0.0  # too little seen (or unseen categories at scoring time): neutral
    return FeatureBins(name=name, kind="categorical", categories=categories, other_bin=other_bin, labels=labels,
                       woe=woe.tolist(), counts=counts.astype(int).tolist(),
                       bad_rates=(bads / np.maximum(counts, 1)).tolist(), iv=_iv(goods, bads, total_good, total_bad))


def fit_bins(name: str, kind: str, x: pd.Series, y: np.ndarray) -> FeatureBins:
    total_bad = float(y.sum())
    total_good = float(len(y) - total_bad)
    missing = x.isna().to_numpy()
    present = ~missing
    if present.sum() < 20:
        raise TrainingError(f"column '{name}' has too few values")
    if kind == "numeric":
        bins = _numeric_bins(name, x[present].to_numpy(dtype=float), y[present], total_good, total_bad)
    else:
        bins = _categorical_bins(name, x[present], y[present], total_good, total_bad)
    bins.missing_count = int(missing.sum())
    if bins.missing_count:
        mb = float(y[missing].sum())
        bins.missing_bad_rate = mb / bins.missing_count
        if bins.missing_count >= max(RARE_SHARE * len(y), 10):
            bins.missing_woe = float(_woe(np.array([bins.missing_count - mb]), np.array([mb]), total_good, total_bad)[0])
            bins.iv += _iv(np.array([bins.missing_count - mb]), np.array([mb]), total_good, total_bad)
    return bins
