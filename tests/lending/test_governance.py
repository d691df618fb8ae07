"""Scorecards a model-risk reviewer would sign (issue #22): protected attributes left out by
default and reported, cross-validated figures and bootstrap intervals, out-of-fold calibration."""
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score, roc_curve
from sqlalchemy import select

from greenfin.core.models import AuditEvent
from greenfin.extensions import db
from greenfin.lending.models import ModelVersion
from greenfin.lending.scoring.data import TrainingError, protected_columns
from greenfin.lending.scoring.scorecard import auc_ks, bootstrap_intervals, train
from greenfin.lending.synthetic import generate_book


def book_with_sex(rows=1500, seed=3) -> pd.DataFrame:
    """A synthetic book with a gender column that predicts default (so a card would pick it)."""
    frame = generate_book(rows, seed=seed)
    rng = np.random.default_rng(seed)
    bad = frame["defaulted"].astype(int).to_numpy() == 1
    female = np.where(bad, rng.random(rows) < 0.85, rng.random(rows) < 0.35)
    frame["gender"] = np.where(female, "女", "男")
    return frame


def test_training_drops_a_sex_column_by_default_and_reports_adverse_impact():
    result = train(book_with_sex(), "defaulted")
    m = result.metrics
    assert "gender" not in result.scorecard.features
    assert m["protected"] == {"dropped": {"gender": "sex"}, "included": {}}
    assert result.scorecard.ignored["gender"] == "protected attribute"
    report = m["adverse_impact"]["gender"]
    assert set(report["groups"]) == {"女", "男"} and sum(g["n"] for g in report["groups"].values()) == 1500
    rates = [g["approval_rate"] for g in report["groups"].values()]
    assert max(g["ratio"] for g in report["groups"].values()) == 1.0
    assert report["min_ratio"] == pytest.approx(min(rates) / max(rates), abs=1e-3)
    assert report["passes"] == (report["min_ratio"] >= 0.8)


def test_including_a_protected_column_needs_the_flag_and_is_recorded():
    kept = train(book_with_sex(), "defaulted", include_protected=["gender"])
    assert "gender" in kept.scorecard.features
    assert kept.metrics["protected"] == {"dropped": {}, "included": {"gender": "sex"}}
    with pytest.raises(TrainingError, match="amount"):
        train(book_with_sex(), "defaulted", include_protected=["amount"])


def test_protected_columns_are_found_by_name_and_by_values():
    frame = pd.DataFrame({"personal_status_and_sex": ["male : single", "female : div/dep/mar"] * 5,
                          "col7": ["female", "male"] * 5, "婚姻状况": ["a", "b"] * 5, "c2": ["已婚", "未婚"] * 5,
                          "民族": ["汉族", "回族"] * 5, "c4": ["佛教", "基督教"] * 5, "sussex_branch": ["a", "b"] * 5,
                          "applied_month": ["Sep", "Oct", "Nov", "Dec", "Jan"] * 2, "y": [0, 1] * 5})
    assert protected_columns(frame, "y") == {"personal_status_and_sex": "sex", "col7": "sex", "婚姻状况": "marital_status",
                                             "c2": "marital_status", "民族": "ethnicity", "c4": "religion"}
    assert protected_columns(frame, "y", ["religion", "applied_month"]) == {"c4": "religion",
                                                                           "applied_month": "applied_month"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.7, 0.9])), min_size=2, max_size=60))
def test_weighted_auc_and_ks_agree_with_scikit_learn(pairs):
    y = np.array([a for a, _ in pairs], dtype=float)
    p = np.array([b for _, b in pairs])
    if len(np.unique(y)) < 2:
        return
    values = np.unique(p)
    pos = np.array([y[p == v].sum() for v in values])
    neg = np.array([(1 - y[p == v]).sum() for v in values])
    auc, ks = auc_ks(pos, neg)
    fpr, tpr, _ = roc_curve(y, p)
    assert auc == pytest.approx(roc_auc_score(y, p)) and ks == pytest.approx(max(0.0, np.max(tpr - fpr)))


def test_training_reports_cross_validated_figures_bootstrap_intervals_and_calibration():
    m = train(generate_book(3000, seed=11), "defaulted").metrics
    cv = m["cv"]
    assert cv["folds"] * cv["repeats"] == cv["fits"] == 10 and cv["rows"] == m["n_train"]
    for name in ("auc", "ks", "brier"):
        assert cv[name]["min"] <= cv[name]["mean"] <= cv[name]["max"] and cv[name]["sd"] > 0
    boot = m["bootstrap"]
    assert boot["auc"][0] < m["auc"] < boot["auc"][1] and boot["ks"][0] < m["ks"] < boot["ks"][1]
    calib = m["calibration"]
    assert sum(r["n"] for r in calib["reliability"]) == m["n_train"]
    assert calib["recalibrated"] == (calib["brier_recalibrated"] < calib["brier"])


def test_bootstrap_interval_narrows_with_more_rows():
    rng = np.random.default_rng(0)

    def width(n):
        y = (rng.random(n) < 0.3).astype(float)
        p = np.clip(0.3 + 0.2 * (y - 0.3) + rng.normal(0, 0.2, n), 0.01, 0.99)
        b = bootstrap_intervals(y, p)
        return b["auc"][1] - b["auc"][0]

    assert width(4000) < width(300)


def test_recalibration_keeps_the_ranking_and_moves_the_logit():
    result = train(generate_book(2000, seed=5), "defaulted", uncertainty=False)
    card, frame = result.scorecard, generate_book(300, seed=6)
    before = card.score_frame(frame)
    card.recalibrate(0.7, -0.2)
    after = card.score_frame(frame)
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    assert np.allclose(logit(after.pd), 0.7 * logit(before.pd) - 0.2, atol=1e-6)
    assert (np.argsort(before.raw_score, kind="stable") == np.argsort(after.raw_score, kind="stable")).all()
    bare = card.model.predict_proba(card.woe_matrix(card.prepare(frame)))[:, 1]
    assert np.allclose(after.pd, bare, atol=1e-9)


def test_cli_train_names_dropped_protected_columns_and_prints_uncertainty(runner, tmp_path, client, login,
                                                                         create_user):
    book = tmp_path / "book.csv"
    book_with_sex().to_csv(book, index=False)
    result = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "defaulted"])
    assert result.exit_code == 0, result.output
    assert "dropped protected columns: gender (sex)" in result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert line["protected_dropped"] == ["gender"] and line["protected_included"] == []
    assert {"cv", "bootstrap", "calibration"} <= set(line) and "gender" not in line["features"]
    result = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "defaulted",
                                 "--include-protected", "gender"])
    assert result.exit_code == 0, result.output
    kept = json.loads(result.output.strip().splitlines()[-1])
    assert kept["protected_included"] == ["gender"] and "gender" in kept["features"]
    model = db.session.scalar(select(ModelVersion).where(ModelVersion.version == kept["version"]))
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lending.model.register",
                                                       AuditEvent.entity_id == str(model.id)))
    assert audit.after["protected"] == {"dropped": {}, "included": {"gender": "sex"}}
    login(create_user("loan_officer"))
    page = client.get(f"/lending/models/{model.id}?lang=en").get_data(as_text=True)
    assert "Kept as a feature by explicit choice" in page and "Adverse impact by" in page
    assert "Cross-validated on the training rows" in page and "bootstrap interval" in page and "Reliability" in page
    zh = client.get(f"/lending/models/{model.id}?lang=zh").get_data(as_text=True)
    assert "经明确选择保留为特征" in zh and "五分之四规则" in zh
    bad = runner.invoke(args=["lending", "train", "--csv", str(book), "--target", "defaulted",
                              "--include-protected", "amount"])
    assert bad.exit_code != 0 and "amount" in bad.output


def test_selection_is_out_of_fold_with_the_one_standard_error_rule_and_never_sees_the_test_rows():
    from greenfin.lending.scoring.scorecard import C_GRID

    book = generate_book(2400, seed=21)
    rows, a, b = book.iloc[:1600].reset_index(drop=True), book.iloc[1600:2000], book.iloc[2000:]
    first, second = train(rows, "defaulted", test_frame=a), train(rows, "defaulted", test_frame=b)
    assert first.scorecard.dumps() == second.scorecard.dumps() and first.metrics["cv"] == second.metrics["cv"]
    cv = first.metrics["cv"]
    means = {g["C"]: g["auc"] for g in cv["grid"]}
    assert set(means) == set(C_GRID) and means[cv["best_C"]] == max(means.values())
    assert cv["C"] <= cv["best_C"] and first.scorecard.C == cv["C"]
    assert means[cv["C"]] >= cv["auc_floor"] and all(means[c] < cv["auc_floor"] for c in C_GRID if c < cv["C"])


def test_upload_keeps_a_protected_column_only_when_named_and_reshows_a_wrong_name(client, login, create_user,
                                                                                 drain_jobs, products):
    from greenfin.job_model import Job

    login(create_user("admin"))
    csv = book_with_sex(1200, seed=8).to_csv(index=False).encode()
    response = client.post("/lending/models/train?lang=en", data={
        "csv": (io.BytesIO(csv), "book.csv"), "target": "defaulted", "include_protected": "amount"},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "not a protected column of the CSV: amount" in response.get_data(as_text=True)
    assert db.session.scalar(select(Job.id)) is None
    response = client.post("/lending/models/train", data={
        "csv": (io.BytesIO(csv), "book.csv"), "target": "defaulted", "include_protected": " gender "},
        content_type="multipart/form-data")
    assert response.status_code == 302
    drain_jobs()
    db.session.expire_all()
    model = db.session.scalar(select(ModelVersion))
    assert model.metrics["protected"]["included"] == {"gender": "sex"} and "gender" in model.features
