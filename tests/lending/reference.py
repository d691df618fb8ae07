"""The scoring path as it was before the compiled arrays (commit 5ab9fb5), kept as a test oracle.

``reference_score_frame(card, frame)`` is the old ``Scorecard.score_frame`` and
``reference_index(bins, values)`` the old ``FeatureBins.index``, copied verbatim apart from
taking the card/bins as arguments. The fast path must give the same points, PD, reason codes
and bins.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from greenfin.lending.scoring.bins import FeatureBins
from greenfin.lending.scoring.data import parse_numbers
from greenfin.lending.scoring.scorecard import Scorecard


def reference_index(bins: FeatureBins, values: pd.Series | np.ndarray) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    raw = series.to_numpy()
    if bins.kind == "numeric":
        try:
            x = np.asarray(raw, dtype=float)  # numbers, None and clean numeric text
        except (TypeError, ValueError):  # messy text: parse each distinct value once
            codes, uniques = pd.factorize(raw, use_na_sentinel=True)
            parsed = parse_numbers(pd.Series(uniques, dtype=object).astype(str))
            x = np.append(parsed.to_numpy(dtype=float), np.nan)[codes]
        idx = np.zeros(len(x), dtype=np.int64)
        for edge in np.asarray(bins.edges, dtype=float):
            idx += x >= edge
        idx[np.isnan(x)] = -1
        return idx
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    fallback = -1 if bins.other_bin is None else bins.other_bin
    table = []
    for value in uniques:
        text = str(value).strip()
        table.append(-1 if text == "" else bins.categories.get(text, fallback))
    return np.asarray(table + [-1], dtype=np.int64)[codes]


def reference_score_frame(card: Scorecard, frame: pd.DataFrame) -> SimpleNamespace:
    n = len(frame)
    idx = np.empty((len(frame), len(card.bins)), dtype=np.int64, order="F")
    for j, b in enumerate(card.bins):
        idx[:, j] = reference_index(b, frame[b.name]) if b.name in frame else -1
    raw = np.full(n, card.base_points)
    loss = np.empty((len(card.bins), n))  # feature-major: contiguous rows per feature
    for j, b in enumerate(card.bins):
        table = np.append(np.asarray(b.points, dtype=float), b.missing_points)  # index -1 -> missing
        pts = table[idx[:, j]]
        raw = raw + pts
        np.subtract(table.max(), pts, out=loss[j])
    # score = offset - factor * logit, so the logit (and PD) follow from the points.
    logit = (card.scaling.offset - raw) / card.scaling.factor
    pd_ = 1.0 / (1.0 + np.exp(-logit))
    # Top four losses: repeated max (the first feature wins ties, like a stable sort).
    rows = np.arange(n)
    order = np.full((n, 4), -1, dtype=np.int64)
    top = np.zeros((n, 4))
    features = np.arange(len(card.bins))
    for r in range(min(4, len(card.bins))):
        value = loss.max(axis=0)  # row-wise vector max over features: fast on this layout
        j = np.full(n, len(card.bins) - 1)
        for k in features[::-1]:  # the first feature holding the maximum wins ties
            j = np.where(loss[k] == value, k, j)
        order[:, r] = np.where(value > 0.5, j, -1)
        top[:, r] = np.where(value > 0.5, value, 0.0)
        loss[j, rows] = -np.inf
    return SimpleNamespace(score=np.rint(raw).astype(int), raw_score=raw, pd=pd_, reason_idx=order,
                           reason_loss=top, bin_idx=idx)


def reference_score_records(card: Scorecard, records: list[dict]) -> SimpleNamespace:
    return reference_score_frame(card, pd.DataFrame.from_records(records, columns=list(card.kinds)))


def reference_reasons(card: Scorecard, result: SimpleNamespace, row: int) -> list[dict]:
    """The old ``Scorecard.reasons_for``: one row's reasons read from feature indices and bins."""
    return [card._reason(int(j), int(result.bin_idx[row, j]), lost)
            for j, lost in zip(result.reason_idx[row], result.reason_loss[row]) if j >= 0]
