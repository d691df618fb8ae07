"""The compiled (fast) scoring path equals the reference path and the model's own predict_proba."""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenfin.lending.scoring.bins import FeatureBins
from greenfin.lending.scoring.scorecard import Scorecard
from greenfin.lending.synthetic import generate_book
from tests.lending.conftest import trained
from tests.lending.reference import reference_reasons, reference_score_frame, reference_score_records

RESULT_FIELDS = ("score", "raw_score", "pd", "reason_idx", "reason_loss", "bin_idx")
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def card() -> Scorecard:
    return trained().scorecard


def assert_same(fast, ref) -> None:
    for name in RESULT_FIELDS:
        a, b = getattr(fast, name), getattr(ref, name)
        assert a.shape == b.shape and np.array_equal(a, b), name


# ---------------------------------------------------------------- messy applicants


def numeric_cell(bins: FeatureBins):
    edges = [float(e) for e in bins.edges]
    number = st.one_of(
        st.sampled_from(edges),  # exactly on a cut point
        st.sampled_from(edges).map(lambda e: math.nextafter(e, -math.inf)),  # just below it
        st.floats(allow_nan=False, allow_infinity=True),  # anything, far out of range too
        st.floats(min_value=-10.0, max_value=10 * max(edges + [1.0])),
        st.integers(-10**9, 10**12),
    )
    text = st.one_of(
        number.filter(math.isfinite).map(lambda x: f"{x}"),
        st.integers(0, 10**8).map(lambda x: f"{x:,}"),  # thousands separators
        st.integers(0, 10**6).map(lambda x: f" ¥{x} "),
        st.sampled_from(["", " ", "n/a", "—", "nan", "inf", "12.5.1", "abc"]),
    )
    return st.one_of(st.none(), st.just(float("nan")), number, text,
                     number.filter(math.isfinite).map(lambda x: Decimal(str(x))), st.booleans())


def category_cell(bins: FeatureBins):
    known = sorted(bins.categories)
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(known).map(lambda v: f"  {v} "),  # padded: strips to a known value
        st.text(max_size=6),  # unseen (or empty, or blank)
        st.sampled_from(["", "   ", "other", "None", "nan"]),
        st.none(), st.just(float("nan")), st.integers(-3, 3), st.floats(allow_nan=False, width=32),
    )


@st.composite
def messy_frames(draw):
    """Applicants with missing, unseen, padded, out-of-range and unparseable cells; each column
    object dtype, typed (float64, str or category) where its cells allow, or absent."""
    scorecard = card()
    n = draw(st.integers(1, 30))
    columns = {}
    for b in scorecard.bins:
        storage = draw(st.sampled_from(["object", "object", "typed", "absent"]))
        if storage == "absent":
            continue
        cell = numeric_cell(b) if b.kind == "numeric" else category_cell(b)
        cells = draw(st.lists(cell, min_size=n, max_size=n))
        column = pd.Series(cells, dtype=object)
        if storage == "typed":
            if b.kind == "numeric" and all(c is None or type(c) in (int, float) for c in cells):
                column = pd.Series([np.nan if c is None else c for c in cells], dtype=float)
            elif b.kind == "categorical" and all(c is None or isinstance(c, str) for c in cells):
                column = pd.Series(cells, dtype=draw(st.sampled_from(["category", "str"])))
        columns[b.name] = column
    columns["unrelated"] = pd.Series(["x"] * n, dtype=object)
    return pd.DataFrame(columns)


@PROPERTY
@given(messy_frames())
def test_fast_path_equals_reference_on_messy_applicants(frame):
    scorecard = card()
    fast = scorecard.score_frame(frame)
    assert_same(fast, reference_score_frame(scorecard, frame))
    bare = scorecard.model.predict_proba(scorecard.woe_matrix(frame))[:, 1]
    assert np.allclose(fast.pd, bare, rtol=0, atol=1e-9)


@PROPERTY
@given(messy_frames())
def test_score_records_equals_reference_for_one_application(frame):
    scorecard = card()
    record = {name: frame[name].iloc[0] for name in frame.columns}
    [fast] = scorecard.score_records([record])
    ref = reference_score_records(scorecard, [record])
    assert fast["score"] == int(ref.score[0]) and fast["pd"] == float(ref.pd[0])
    assert fast["reasons"] == reference_reasons(scorecard, ref, 0)


def test_bench_book_scores_identically_and_typed_columns_change_nothing():
    scorecard = card()
    frame = generate_book(3000, seed=11)
    fast = scorecard.score_frame(frame)
    assert_same(fast, reference_score_frame(scorecard, frame))
    typed = frame.copy()
    for b in scorecard.bins:
        column = typed[b.name]
        typed[b.name] = pd.to_numeric(column).astype(float) if b.kind == "numeric" else column.astype("category")
    assert_same(scorecard.score_frame(typed), fast)
    assert_same(scorecard.score_frame(frame.iloc[:0]), reference_score_frame(scorecard, frame.iloc[:0]))


# ---------------------------------------------------------------- reason ranks on synthetic cards


@st.composite
def synthetic_cards(draw):
    """Numeric-only cards whose points come from a few values, so equal losses (ties between
    features) and losses right at 0.5 are common; up to 30 features of 9 bins (uint16 ranks)."""
    k = draw(st.integers(1, 30))
    values = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.5000001, 1.0, 3.0, 7.5, 12.0]), min_size=2, max_size=5))
    bins = []
    for j in range(k):
        n_bins = draw(st.integers(2, 9))
        points = draw(st.lists(st.sampled_from(values), min_size=n_bins, max_size=n_bins))
        bins.append(FeatureBins(name=f"f{j}", kind="numeric", edges=[float(i) for i in range(1, n_bins)],
                                labels=[str(i) for i in range(n_bins)], woe=[0.0] * n_bins, points=points,
                                missing_points=draw(st.sampled_from(values))))
    scorecard = Scorecard()
    scorecard.bins, scorecard.kinds, scorecard.base_points = bins, {b.name: "numeric" for b in bins}, 500.0
    rows = draw(st.integers(1, 40))
    frame = pd.DataFrame({b.name: draw(st.lists(st.one_of(st.none(), st.floats(-1, 10, allow_nan=False)),
                                                min_size=rows, max_size=rows)) for b in bins}, dtype=float)
    return scorecard, frame


@settings(max_examples=200, deadline=None)
@given(synthetic_cards())
def test_reason_codes_equal_reference_with_ties_and_many_attributes(case):
    scorecard, frame = case
    assert_same(scorecard.score_frame(frame), reference_score_frame(scorecard, frame))


def test_points_on_the_grid_are_read_by_groups_and_points_off_it_one_feature_at_a_time():
    from greenfin.lending.scoring.data import on_grid

    scorecard = card()
    points = [scorecard.base_points] + [p for b in scorecard.bins for p in [*b.points, b.missing_points]]
    assert all(on_grid(p) == p for p in points)  # training puts them there
    assert len(scorecard.compiled().point_groups) < len(scorecard.bins) / 2
    old = Scorecard.loads(scorecard.dumps())  # an artefact trained before the grid
    old.bins[1].points[0] += 1e-7
    assert [group.features for group in old.compiled().point_groups] == [[j] for j in range(len(old.bins))]
    frame = generate_book(500, seed=3)
    assert_same(old.score_frame(frame), reference_score_frame(old, frame))
    assert not np.array_equal(old.score_frame(frame).raw_score, scorecard.score_frame(frame).raw_score)


def test_compiled_arrays_are_not_pickled_and_refit_rebuilds_them():
    scorecard = Scorecard.loads(card().dumps())
    blob = scorecard.dumps()
    scorecard.score_frame(generate_book(20, seed=1))
    assert "_compiled" in scorecard.__dict__ and scorecard.dumps() == blob
    frame = generate_book(600, seed=2)
    from greenfin.lending.scoring.data import clean_features, detect_columns

    kinds, _ignored = detect_columns(frame, "defaulted")
    scorecard.fit(clean_features(frame, kinds), frame["defaulted"].to_numpy(), kinds)
    assert "_compiled" not in scorecard.__dict__
    assert_same(scorecard.score_frame(frame), reference_score_frame(scorecard, frame))


def test_reason_columns_word_reasons_as_reasons_for():
    scorecard = card()
    frame = generate_book(300, seed=6)
    frame.loc[::4, "years_in_business"] = None  # reasons naming the missing bin
    result = scorecard.score_frame(frame)
    columns = scorecard.reason_columns(result)
    ref = reference_score_frame(scorecard, frame)
    for i in range(len(frame)):
        reasons = scorecard.reasons_for(result, i)
        assert reasons == reference_reasons(scorecard, ref, i)
        for k in range(4):
            expected = ("", "")
            if k < len(reasons):
                expected = (reasons[k]["code"], f"{reasons[k]['zh']} / {reasons[k]['en']}")
            assert (columns[f"reason_{k + 1}"][i], columns[f"reason_{k + 1}_text"][i]) == expected


def test_wide_cards_use_int16_codes_and_uint16_ranks():
    rng = np.random.default_rng(4)
    bins = [FeatureBins(name=f"f{j}", kind="numeric", edges=[float(i) for i in range(1, 140)],
                        labels=[str(i) for i in range(140)], woe=[0.0] * 140, points=rng.normal(0, 5, 140).tolist(),
                        missing_points=float(rng.normal(0, 5))) for j in range(3)]
    scorecard = Scorecard()
    scorecard.bins, scorecard.kinds, scorecard.base_points = bins, {b.name: "numeric" for b in bins}, 500.0
    frame = pd.DataFrame({b.name: rng.uniform(-5, 150, 500) for b in bins})
    frame.iloc[::7, 1] = np.nan
    compiled = scorecard.compiled()
    assert compiled.code_dtype == np.int16 and compiled.rank_dtype == np.uint16
    assert_same(scorecard.score_frame(frame), reference_score_frame(scorecard, frame))


def test_large_batches_in_unequal_blocks_score_as_the_reference():
    """More rows than one block holds: each block's codes, points and reasons land in its rows."""
    from greenfin.lending.scoring import compiled as fast_path

    scorecard = card()
    n = 2 * fast_path.MAX_BLOCK + 4321
    frame = generate_book(n, seed=13)
    frame.loc[::9, "eco_colour"] = None
    frame.loc[::7, "annual_income"] = None
    frame["sector"] = frame["sector"].astype("category")
    del frame["township"]  # an absent feature
    result = scorecard.score_frame(frame)
    sample = frame.iloc[::97]
    ref = reference_score_frame(scorecard, sample)
    for name in RESULT_FIELDS:
        assert np.array_equal(getattr(result, name)[::97], getattr(ref, name)), name
    tail = frame.iloc[-50:]
    assert_same(scorecard.score_frame(tail), reference_score_frame(scorecard, tail))


def test_batches_on_threads_score_exactly_as_on_one():
    """From ``parallel_min_rows`` rows on (PARALLEL_MIN_ROWS by default), one block a thread: the
    same numbers as one thread, whatever the blocks' sizes."""
    scorecard = card()
    n = 20_017
    frame = generate_book(n, seed=21)
    frame.loc[::5, "debt_to_income"] = None
    compiled = scorecard.compiled()
    sources = [compiled.source(j, frame[name]) for j, name in enumerate(compiled.names)]
    one = compiled.score_sources(sources, n, scorecard, threads=1, parallel_min_rows=0)
    assert_same(compiled.score_sources(sources, n, scorecard, threads=3, parallel_min_rows=0), one)
    assert_same(one, reference_score_frame(scorecard, frame))
