"""Batch-scoring intake: the one home of the checks every applicants' row passes before it is
scored (the upload page, the API, ``flask lending score`` and the scoring job all go through
``check_rows``).

A row is **rejected** (not scored: its score, PD and reasons stay empty, ``row_status`` says
``rejected`` and ``problems`` names each problem) when one of its model's feature cells is

- ``unknown_category``: a value of a categorical feature the model has never seen (an eco-credit
  colour 紫色, a sector nobody trained on); it would silently get the neutral "other" bin;
- ``not_a_number``: text in a numeric feature that is not a number (``abc``, ``五万``); it would
  silently count as missing;
- ``negative``: a figure below zero in a column that cannot be (``NON_NEGATIVE``: income, assets,
  debts, amounts, ratios, terms, years, counts);
- ``outside_district``: a township that is not one of Guangfeng district's (``北京``).

Empty cells stay allowed: missing values are what the scorecard's "missing" bins are for.
``problems`` rows say where (CSV line, the header being line 1), which column, the value as sent
and the problem's code; ``PROBLEM_TEXT`` is each code's message, translated where it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from greenfin.core import geography
from greenfin.errors import N_

# Figures of the district's scoring features that cannot be below zero.
NON_NEGATIVE = frozenset({
    "annual_income", "total_assets", "total_debts", "debt_to_income", "amount", "loan_to_income", "term_months",
    "collateral_coverage", "years_in_business", "guarantor_count", "asset_to_debt",
})
TOWNSHIP_COLUMNS = frozenset({"township"})
GUANGFENG = frozenset(geography.TOWNSHIP_CODES)

PROBLEM_TEXT = {
    "unknown_category": N_("unknown category: the model has never seen this value"),
    "not_a_number": N_("not a number"),
    "negative": N_("must not be negative"),
    "outside_district": N_("not a township of Guangfeng district"),
}
REPORT_COLUMNS = ("line", "column", "value", "problem", "code")


@dataclass
class RowCheck:
    """The outcome for a frame: ``ok`` per row, and every problem found."""

    ok: np.ndarray
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return int((~self.ok).sum())

    def row_text(self, n: int) -> list[str]:
        """Per row, its problems as ``column=value: code`` joined by "; " (empty when none)."""
        texts: list[list[str]] = [[] for _ in range(n)]
        for p in self.problems:
            texts[p["line"] - 2].append(f"{p['column']}={p['value']}: {p['code']}")
        return ["; ".join(t) for t in texts]


def _text(column: pd.Series) -> pd.Series:
    return column.astype("string").str.strip()


def check_rows(frame: pd.DataFrame, kinds: dict[str, str], categories: dict[str, set[str]]) -> RowCheck:
    """Check every row of ``frame`` against the model's features: ``kinds`` (feature: numeric or
    categorical) and ``categories`` (categorical feature: the values it was trained on). The
    district's own columns (``NON_NEGATIVE`` figures, ``township``) are checked whenever the file
    has them, used by this model or not: an officer reads them beside the score."""
    from greenfin.lending.scoring.data import parse_numbers

    kinds = dict(kinds)
    for column in frame.columns:
        if column in NON_NEGATIVE:
            kinds.setdefault(column, "numeric")
        elif column in TOWNSHIP_COLUMNS:
            kinds.setdefault(column, "categorical")
    n = len(frame)
    bad = np.zeros(n, dtype=bool)
    problems: list[dict[str, Any]] = []

    def flag(mask: np.ndarray, column: str, text: pd.Series, code: str) -> None:
        nonlocal bad
        for i in np.flatnonzero(mask):
            problems.append({"line": int(i) + 2, "column": column, "value": str(text.iloc[i]), "code": code})
        bad |= mask

    for column, kind in kinds.items():
        if column not in frame.columns:
            continue
        text = _text(frame[column])
        present = (text.notna() & (text != "")).to_numpy(dtype=bool)
        if kind == "numeric":
            numbers = parse_numbers(text.fillna("")).to_numpy(dtype=float)
            flag(present & np.isnan(numbers), column, text, "not_a_number")
            if column in NON_NEGATIVE:
                flag(present & ~np.isnan(numbers) & (numbers < 0), column, text, "negative")
            continue
        values = text.fillna("").to_numpy(dtype=object)
        if column in TOWNSHIP_COLUMNS:
            outside = present & ~np.isin(values, list(GUANGFENG))
            flag(outside, column, text, "outside_district")
        else:
            outside = np.zeros(n, dtype=bool)
        known = categories.get(column)
        if known is not None:
            flag(present & ~outside & ~np.isin(values, list(known)), column, text, "unknown_category")
    problems.sort(key=lambda p: (p["line"], list(kinds).index(p["column"])))
    return RowCheck(ok=~bad, problems=problems)
