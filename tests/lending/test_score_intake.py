"""Batch-scoring intake (greenfin/lending/scoring/intake.py): impossible rows are rejected with a
per-row report, the batch counts them, and the good rows score exactly as they would alone."""
import io

import numpy as np
import pytest
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenfin.lending.scoring import intake, modelling
from greenfin.lending.synthetic import generate_book

URL = "/api/v1/lending/score-batches"
# The rows of the issue: colour 紫色, amount "abc" and "五万", income −500,000, township 北京.
BAD_CELLS = [("eco_colour", "紫色", "unknown_category"), ("amount", "abc", "not_a_number"),
             ("amount", "五万", "not_a_number"), ("annual_income", "-500000", "negative"),
             ("township", "北京", "outside_district")]


def book(rows: int = 20, seed: int = 31) -> pd.DataFrame:
    return generate_book(rows, seed=seed).drop(columns=["defaulted"]).astype(object)


def with_bad_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for i, (column, value, _code) in enumerate(BAD_CELLS):
        frame.loc[2 * i + 1, column] = value  # rows 1, 3, 5, 7, 9: CSV lines 3, 5, 7, 9, 11
    return frame


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_each_impossible_cell_rejects_its_row_and_names_the_problem(champion):
    frame = with_bad_rows(book())
    check = modelling.check_applicants(frame, champion)
    assert check.rejected == 5 and list(np.flatnonzero(~check.ok)) == [1, 3, 5, 7, 9]
    assert [(p["line"], p["column"], p["value"], p["code"]) for p in check.problems] == [
        (2 * i + 3, column, value, code) for i, (column, value, code) in enumerate(BAD_CELLS)]
    out = modelling.score_csv(frame, champion)
    rejected = out[out["row_status"] == "rejected"]
    assert len(rejected) == 5 and rejected["score"].isna().all() and rejected["pd"].isna().all()
    assert (rejected["reason_1"] == "").all()
    assert rejected["problems"].iloc[0] == "eco_colour=紫色: unknown_category"
    scored = out[out["row_status"] == "scored"]
    assert scored["score"].notna().all() and (scored["problems"] == "").all()


def test_empty_cells_are_missing_values_not_problems(champion):
    frame = book(10)
    frame.loc[0, "annual_income"] = ""
    frame.loc[1, "eco_colour"] = None
    assert modelling.check_applicants(frame, champion).rejected == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corrupt=st.lists(st.tuples(st.integers(0, 29), st.sampled_from(BAD_CELLS)), max_size=12))
def test_rejected_rows_are_exactly_the_corrupted_ones_and_good_rows_score_as_alone(champion, corrupt):
    clean = book(30, seed=5)
    frame = clean.copy()
    for row, (column, value, _code) in corrupt:
        frame.loc[row, column] = value
    bad_rows = sorted({row for row, _cell in corrupt})
    out = modelling.score_csv(frame, champion)
    assert list(np.flatnonzero(out["row_status"] == "rejected")) == bad_rows
    good = [i for i in range(30) if i not in bad_rows]
    alone = modelling.score_csv(clean.iloc[good].reset_index(drop=True), champion)
    assert list(out["score"].iloc[good]) == list(alone["score"])
    assert list(out["pd"].iloc[good]) == list(alone["pd"])


def test_batch_counts_rejected_rows_and_the_officer_downloads_the_report(api, champion, drain_jobs):
    officer = api("loan_officer")
    response = officer.post(URL, data={"file": (io.BytesIO(csv_bytes(with_bad_rows(book()))), "bad.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 202
    drain_jobs()
    batch = officer.get(response.headers["Location"]).json
    assert (batch["rows"], batch["rejected_rows"], batch["scored_rows"]) == (20, 5, 15)
    job = officer.get(f"/api/v1/jobs/{response.json['id']}").json
    assert job["result"]["rejected_rows"] == 5
    report = officer.get(f"{URL}/{batch['id']}/problems.csv", headers={"Accept-Language": "zh-CN"})
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = pd.read_csv(io.BytesIO(report.data), encoding="utf-8-sig", dtype=str)
    assert list(rows.columns) == list(intake.REPORT_COLUMNS) and len(rows) == 5
    assert list(rows["code"]) == [code for _c, _v, code in BAD_CELLS]
    assert rows.loc[4, "value"] == "北京"
    scored = pd.read_csv(io.BytesIO(officer.get(f"{URL}/{batch['id']}/scored.csv").data), dtype=str)
    assert list(scored["row_status"]).count("rejected") == 5


def test_models_page_shows_the_count_and_the_report_in_chinese(client, login, create_user, champion, drain_jobs):
    login(create_user("loan_officer"))
    client.post("/lending/score-batches", data={"sb-file": (io.BytesIO(csv_bytes(with_bad_rows(book()))), "a.csv")},
                content_type="multipart/form-data")
    drain_jobs()
    page = client.get("/lending/models").get_data(as_text=True)
    assert "未评分行" in page and "原因（CSV）" in page
    from greenfin.lending.models import ScoreBatch
    from greenfin.extensions import db
    from sqlalchemy import select

    batch = db.session.scalar(select(ScoreBatch))
    report = client.get(f"/lending/score-batches/{batch.id}/problems.csv").data.decode("utf-8-sig")
    assert "未知类别：模型从未见过此取值" in report and "不是广丰区的乡镇（街道）" in report
    assert "不能为负数" in report and "不是数字" in report


def test_cli_scores_the_good_rows_names_the_bad_and_exits_1(runner, champion, tmp_path):
    source, out = tmp_path / "bad.csv", tmp_path / "out.csv"
    source.write_bytes(csv_bytes(with_bad_rows(book())))
    result = runner.invoke(args=["lending", "score", "--csv", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert '"rejected_rows": 5' in result.output and "rejected: township=北京: outside_district" in result.output
    written = pd.read_csv(out, dtype=str)
    assert len(written) == 20 and written["score"].notna().sum() == 15


@pytest.mark.no_db_isolation
def test_demo_district_holds_a_batch_with_rejected_rows(demo_app):
    from sqlalchemy import select

    from greenfin.extensions import db
    from greenfin.lending.models import ScoreBatch

    with demo_app.app_context():
        batch = db.session.scalar(select(ScoreBatch).where(ScoreBatch.filename == "demo-applicants.csv"))
        assert (batch.rows, batch.rejected_rows, batch.scored_rows) == (12, 3, 9)
        assert [p["code"] for p in modelling.batch_problems(batch)] == ["unknown_category", "not_a_number",
                                                                         "outside_district"]
        db.session.remove()
