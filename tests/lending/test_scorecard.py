"""Scorecard training, scaling, reasons, single == batch, CLI train/score and bad CSVs."""
import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from greenfin.extensions import db
from greenfin.lending.models import ModelVersion
from greenfin.lending.scoring.data import TrainingError
from greenfin.lending.scoring.points import Scaling
from greenfin.lending.scoring.scorecard import psi, train
from greenfin.lending.synthetic import generate_book
from tests.lending.conftest import trained


def test_train_synthetic_book_learns_documented_relationships():
    result = trained()
    assert result.metrics["auc"] > 0.72 and result.metrics["n_test"] == 1200
    assert "loan_id" in result.scorecard.ignored and "applied_month" in result.scorecard.ignored
    colour = next(b for b in result.scorecard.bins if b.name == "eco_colour")
    points = dict(zip(colour.labels, colour.points))
    assert points["green"] > points["red"]
    dti = next(b for b in result.scorecard.bins if b.name == "debt_to_income")
    assert dti.monotonic == "increasing" and dti.points == sorted(dti.points, reverse=True)


def test_score_alone_equals_score_in_batch():
    card = trained().scorecard
    frame = generate_book(400, seed=99)
    batch = card.score_frame(frame)
    for i in (0, 17, 233, 399):
        alone = card.score_frame(frame.iloc[[i]])
        assert alone.raw_score[0] == batch.raw_score[i] and alone.pd[0] == batch.pd[i]
        assert card.reasons_for(alone, 0) == card.reasons_for(batch, i)


def test_scaling_600_at_50_to_1_and_20_pdo():
    s = Scaling()
    assert s.offset + s.factor * np.log(50) == pytest.approx(600)
    assert s.offset + s.factor * np.log(100) == pytest.approx(620)
    card = trained().scorecard
    result = card.score_frame(generate_book(50, seed=3))
    odds = (1 - result.pd) / result.pd
    assert np.allclose(result.raw_score, s.offset + s.factor * np.log(odds))


def test_reasons_are_top_four_losses_in_both_languages():
    card = trained().scorecard
    result = card.score_frame(generate_book(200, seed=5))
    reasons = card.reasons_for(result, int(np.argmin(result.raw_score)))
    assert 1 <= len(reasons) <= 4
    losses = [r["points_lost"] for r in reasons]
    assert losses == sorted(losses, reverse=True)
    assert all(r["zh"] and r["en"] and r["code"].startswith("RC_") for r in reasons)


def test_train_refuses_missing_target_and_one_class():
    frame = generate_book(300, seed=1)
    with pytest.raises(TrainingError, match="not in the CSV"):
        train(frame, "nope")
    frame["defaulted"] = 0
    with pytest.raises(TrainingError, match="one class"):
        train(frame, "defaulted")


def test_train_survives_messy_data():
    frame = generate_book(800, seed=11).astype(object)
    frame.loc[::7, "annual_income"] = "n/a"
    frame.loc[::5, "sector"] = None
    frame["notes"] = [f"free text {i}" for i in range(len(frame))]
    frame["empty"] = None
    frame["constant"] = "x"
    frame.loc[3, "defaulted"] = None
    result = train(frame, "defaulted", bad_value="1")
    assert {"notes", "empty", "constant"} <= set(result.scorecard.ignored)
    assert result.metrics["n_train"] + result.metrics["n_test"] == 799


def test_psi_is_zero_for_same_distribution_and_grows_with_shift():
    assert psi([0.25] * 4, [0.25] * 4) == pytest.approx(0)
    assert psi([0.25] * 4, [0.7, 0.1, 0.1, 0.1]) > 0.25


def test_cli_train_and_score(runner, tmp_path):
    book = tmp_path / "book.csv"
    generate_book(1500, seed=4).to_csv(book, index=False)
    result = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "defaulted"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert {"version", "auc", "ks", "gini", "brier", "n_train", "n_test"} <= set(line)
    assert line["n_test"] == 450
    out = tmp_path / "scored.csv"
    result = runner.invoke(args=["lending", "score", "--csv", str(book), "--out", str(out), "--version", line["version"]])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert {"score", "pd", "reason_1", "reason_1_text"} <= set(scored.columns) and len(scored) == 1500


def test_cli_train_bad_csv_fails_cleanly_and_stores_nothing(runner, tmp_path):
    book = tmp_path / "book.csv"
    frame = generate_book(300, seed=4)
    frame.to_csv(book, index=False)
    result = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "missing_col"])
    assert result.exit_code != 0 and "missing_col" in result.output
    frame["defaulted"] = 1
    frame.to_csv(book, index=False)
    result = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "defaulted"])
    assert result.exit_code != 0 and "one class" in result.output
    assert db.session.scalar(select(func.count(ModelVersion.id))) == 0


def test_pd_matches_the_logistic_regression_on_woe():
    card = trained().scorecard
    frame = generate_book(300, seed=8)
    bare = card.model.predict_proba(card.woe_matrix(card.prepare(frame)))[:, 1]
    assert np.allclose(card.score_frame(frame).pd, bare, atol=1e-9)


def test_reloaded_artefact_scores_identically():
    from greenfin.lending.scoring.scorecard import Scorecard

    card = trained().scorecard
    frame = generate_book(100, seed=9)
    again = Scorecard.loads(card.dumps())
    assert np.array_equal(card.score_frame(frame).raw_score, again.score_frame(frame).raw_score)


def test_load_an_artefact_pickled_before_scoring_became_a_subpackage(monkeypatch):
    """Artefacts in the registry name the old module ``greenfin.lending.scorecard``: they still load."""
    import sys
    import types

    from greenfin.lending.scoring import bins, points
    from greenfin.lending.scoring.scorecard import Scorecard

    card = trained().scorecard
    old = types.ModuleType("greenfin.lending.scorecard")
    for cls in (Scorecard, bins.FeatureBins, points.Scaling):
        setattr(old, cls.__name__, cls)
        monkeypatch.setattr(cls, "__module__", "greenfin.lending.scorecard")
    monkeypatch.setitem(sys.modules, "greenfin.lending.scorecard", old)
    blob = card.dumps()
    monkeypatch.undo()
    assert b"greenfin.lending.scorecard" in blob and "greenfin.lending.scorecard" not in sys.modules
    frame = generate_book(50, seed=4)
    again = Scorecard.loads(blob)
    assert type(again) is Scorecard and type(again.bins[0]) is bins.FeatureBins
    assert np.array_equal(card.score_frame(frame).raw_score, again.score_frame(frame).raw_score)


def test_cli_train_reads_messy_chinese_csv(runner, tmp_path):
    rng = np.random.default_rng(3)
    lines = ["客户编号;收入;行业;违约"]
    for i in range(400):
        income = int(rng.integers(1000, 90000))
        bad = rng.random() < 0.15 + (income < 20000) * 0.35
        lines.append(f"C{i:05d};{income:,};{rng.choice(['茶', '柚', '林', ''])};{'是' if bad else '否'}")
    book = tmp_path / "book.csv"
    book.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    result = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "违约"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert "收入" in line["features"] and "客户编号" not in line["features"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(args=["lending", "train", "--csv", str(empty), "--target", "x"])
    assert result.exit_code == 2 and "empty" in result.output
