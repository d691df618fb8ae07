"""Training and scoring read every cell the same way (issue #22): a boolean cell in a numeric
column used to become NaN in training and 1.0 in scoring."""
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.lending.scoring.data import cell_numbers, clean_features, numeric_values
from tests.lending.conftest import trained

CELLS = st.one_of(
    st.none(), st.just(np.nan), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**5, max_value=10**5),
    st.sampled_from(["", " ", "12,345", " 7 ", "¥300", "True", "false", "n/a", "1.5e3", "绿", "0"]),
    st.integers(-10**4, 10**4).map(str),
)


def alone(cell) -> float:
    return float(cell_numbers([cell])[0])


def same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=25))
def test_training_and_scoring_read_each_numeric_cell_alike(cells):
    column = np.array(cells + [None], dtype=object)[:-1]  # object array, whatever the cells
    frame = pd.DataFrame({"x": pd.Series(column, dtype=object)})
    training = clean_features(frame, {"x": "numeric"})["x"].to_numpy(dtype=float)
    scoring = numeric_values(column)
    each = np.array([alone(c) for c in cells])
    assert same(training, scoring) and same(scoring, each)
    for cell, value in zip(cells, each):  # the one rule
        if isinstance(cell, bool):
            assert value == float(cell)
        elif cell is None or (isinstance(cell, float) and np.isnan(cell)):
            assert np.isnan(value)


def test_a_boolean_cell_is_one_in_training_and_scoring():
    frame = pd.DataFrame({"x": pd.Series([True, 2.5, "3", False], dtype=object)})
    assert clean_features(frame, {"x": "numeric"})["x"].tolist() == [1.0, 2.5, 3.0, 0.0]
    assert numeric_values(frame["x"].to_numpy()).tolist() == [1.0, 2.5, 3.0, 0.0]
    assert numeric_values(np.array(["True", "2,5", None], dtype=object))[[0]].tolist() == [1.0]


ROWS = st.fixed_dictionaries({
    "guarantor_count": st.one_of(st.none(), st.booleans(), st.integers(0, 4), st.sampled_from(["1", " 2 ", "True"])),
    "debt_to_income": st.one_of(st.none(), st.floats(0, 3), st.decimals(0, 3, places=3), st.sampled_from(["0.5", "n/a"])),
    "years_in_business": st.one_of(st.none(), st.integers(0, 30), st.booleans(), st.just("12")),
    "eco_colour": st.one_of(st.none(), st.sampled_from(["green", " blue", "red", "unrated", True, 1.0])),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(ROWS, min_size=1, max_size=12))
def test_a_card_scores_raw_rows_as_it_scores_the_rows_training_saw(rows):
    """The fitted card scores generated raw rows (mixed types, as an API or a frame gives them)
    exactly as it scores the same rows cleaned by the training reader, batch or one by one."""
    card = trained().scorecard
    raw = pd.DataFrame.from_records(rows, columns=list(card.kinds)).astype(object)
    cleaned = clean_features(raw, card.kinds)
    a, b = card.score_frame(raw), card.score_frame(cleaned)
    assert a.raw_score.tolist() == b.raw_score.tolist()
    records = card.score_records([{k: v for k, v in r.items()} for r in rows])
    assert [r["score"] for r in records] == a.score.astype(int).tolist()
