"""Batch scoring as a job: upload through the API or the models page, the scored CSV as the job's result."""
import io

import pandas as pd
import pytest
from sqlalchemy import func, select

from greenfin.core.models import AuditEvent
from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.lending.scoring import modelling
from greenfin.lending.jobs import scored_path
from greenfin.lending.models import ScoreBatch
from greenfin.lending.synthetic import generate_book

URL = "/api/v1/lending/score-batches"


def applicants_csv(rows: int = 200, seed: int = 31, drop: tuple = ("defaulted",)) -> bytes:
    return generate_book(rows, seed=seed).drop(columns=list(drop)).to_csv(index=False).encode()


def upload(client, data: bytes, name: str = "applicants.csv", **form):
    return client.post(URL, data={"file": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(ScoreBatch.id))), db.session.scalar(select(func.count(Job.id))))


def test_upload_scores_in_a_job_with_the_columns_of_the_cli(api, champion, drain_jobs, runner, tmp_path):
    officer = api("loan_officer")
    data = applicants_csv()
    response = upload(officer, data)
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert response.json["status"] in ("queued", "finished")
    batch_url = response.headers["Location"]
    drain_jobs()
    job = officer.get(f"/api/v1/jobs/{job_id}").json
    assert job["status"] == "finished", job["error"]
    assert job["result"]["rows"] == 200 and job["result"]["version"] == champion.version
    assert job["result_url"].startswith("/lending/score-batches/")
    batch = officer.get(batch_url).json
    assert (batch["rows"], batch["scored_rows"], batch["status"], batch["version"]) == (200, 200, "finished",
                                                                                        champion.version)
    scored = officer.get(job["result"]["api_url"])
    assert scored.status_code == 200 and scored.mimetype == "text/csv"

    source, out = tmp_path / "applicants.csv", tmp_path / "cli.csv"
    source.write_bytes(data)
    result = runner.invoke(args=["lending", "score", "--csv", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert scored.data == out.read_bytes()  # the same service, the same file
    frame = pd.read_csv(io.BytesIO(scored.data))
    assert {"score", "pd", "reason_1", "reason_4", "reason_1_text"} <= set(frame.columns) and len(frame) == 200


def test_upload_is_audited_when_queued_and_when_scored(api, champion, drain_jobs):
    response = upload(api("admin"), applicants_csv(50))
    assert response.status_code == 202
    drain_jobs()
    batch = db.session.scalar(select(ScoreBatch))
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "score_batch", AuditEvent.entity_id == str(batch.id)).order_by(AuditEvent.id)))
    assert actions == ["lending.score_batch.create", "lending.score_batch.score"]


def test_named_version_scores_with_that_version(api, champion, drain_jobs):
    from tests.lending.conftest import trained

    other = modelling.register_model(trained(), name="challenger", target="defaulted", bad_value=None)
    db.session.commit()
    officer = api("loan_officer")
    response = upload(officer, applicants_csv(20), version=other.version)
    assert response.status_code == 202
    drain_jobs()
    assert officer.get(response.headers["Location"]).json["version"] == other.version


@pytest.mark.parametrize("case, field, words", [
    ("no file", "file", "Missing data"),
    ("empty file", "file", "required"),
    ("not a csv name", "file", "must be a CSV file"),
    ("binary", "file", "must be a CSV file"),
    ("unknown version", "version", "unknown model version"),
    ("missing columns", "file", "annual_income"),
    ("header only", "file", "has no rows"),
])
def test_bad_upload_is_named_and_nothing_is_stored(api, champion, case, field, words):
    officer = api("loan_officer")
    data = applicants_csv(30)
    if case == "no file":
        response = officer.post(URL, data={"version": champion.version}, content_type="multipart/form-data")
    elif case == "empty file":
        response = upload(officer, b"")
    elif case == "not a csv name":
        response = upload(officer, data, name="applicants.xlsx")
    elif case == "binary":
        response = upload(officer, b"\x89PNG\r\n\x1a\n\x00\x00\x00" + data)
    elif case == "unknown version":
        response = upload(officer, data, version="v999")
    elif case == "missing columns":
        response = upload(officer, applicants_csv(30, drop=("defaulted", "annual_income")))
    else:
        response = upload(officer, data.split(b"\n", 1)[0] + b"\n")
    assert response.status_code == 422, response.json
    assert set(response.json) == {"status", "code", "message", "errors"}
    assert words in " ".join(response.json["errors"].get(field, [])), response.json
    assert stored() == (0, 0)


def test_no_champion_and_no_version_is_409(api, products):
    response = upload(api("loan_officer"), applicants_csv(10))
    assert response.status_code == 409 and "champion" in response.json["message"]
    assert stored() == (0, 0)


def test_only_officers_and_admins_score_batches(api, champion):
    for role in ("regulator", "producer"):
        assert upload(api(role), applicants_csv(10)).status_code == 403
        assert api(role).get(URL).status_code == 403
    assert api("loan_officer").get(URL).status_code == 200


def test_scored_csv_waits_for_the_job_then_is_rebuilt_where_missing(api, champion, drain_jobs):
    officer = api("loan_officer")
    batch = modelling.create_score_batch(applicants_csv(15), "wait.csv")
    db.session.commit()
    assert officer.get(f"{URL}/{batch.id}/scored.csv").status_code == 409  # no job yet
    response = upload(officer, applicants_csv(15))
    drain_jobs()
    result = officer.get(f"/api/v1/jobs/{response.json['id']}").json["result"]
    first = officer.get(result["api_url"]).data
    scored_path(result["batch_id"]).unlink()  # e.g. the job ran on another machine
    assert officer.get(result["api_url"]).data == first



def test_probe_10_scored_csv_neutralises_uploaded_formulas(api, champion, drain_jobs):
    officer = api("loan_officer")
    frame = generate_book(5, seed=7).drop(columns=["defaulted"])
    frame.insert(0, "applicant", ["=HYPERLINK(\"http://x\")", "+cmd", "@A1", "-1+1", "马家柚合作社"])
    response = upload(officer, frame.to_csv(index=False).encode(), name="=evil.csv")
    drain_jobs()
    result = officer.get(f"/api/v1/jobs/{response.json['id']}").json["result"]
    for attempt in range(2):  # from the job's file, then rebuilt where the file is missing
        scored = officer.get(result["api_url"])
        out = pd.read_csv(io.BytesIO(scored.data))
        assert out["applicant"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+cmd", "'@A1", "'-1+1", "马家柚合作社"]
        assert (out["pd"] > 0).all() and out["score"].dtype.kind in "if"  # numbers stay numbers
        header = scored.headers["Content-Disposition"]
        assert header.startswith(f'attachment; filename="scored-{result["batch_id"]}-_evil.csv"'), header
        scored_path(result["batch_id"]).unlink(missing_ok=True)

def test_batches_are_listed_newest_first_and_paginated(api, champion, drain_jobs):
    officer = api("loan_officer")
    for _ in range(3):
        assert upload(officer, applicants_csv(5)).status_code == 202
    drain_jobs()
    response = officer.get(f"{URL}?page_size=2")
    assert len(response.json) == 2 and '"total": 3' in response.headers["X-Pagination"]
    assert response.json[0]["id"] > response.json[1]["id"]


def test_officer_scores_a_batch_from_the_models_page(client, login, create_user, champion, drain_jobs):
    login(create_user("loan_officer"))
    page = client.get("/lending/models").get_data(as_text=True)
    assert 'id="score-batch"' in page
    response = client.post("/lending/score-batches", data={"sb-file": (io.BytesIO(applicants_csv(40)), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    drain_jobs()
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<progress" in job_page
    batch = db.session.scalar(select(ScoreBatch))
    assert f"/lending/score-batches/{batch.id}/scored.csv" in job_page
    download = client.get(f"/lending/score-batches/{batch.id}/scored.csv")
    assert download.status_code == 200 and len(pd.read_csv(io.BytesIO(download.data))) == 40
    assert f"/lending/score-batches/{batch.id}/scored.csv" in client.get("/lending/models").get_data(as_text=True)


def test_models_page_names_missing_columns_in_chinese(client, login, create_user, champion):
    login(create_user("admin"))
    data = applicants_csv(10, drop=("defaulted", "sector"))
    response = client.post("/lending/score-batches", data={"sb-file": (io.BytesIO(data), "a.csv")},
                           content_type="multipart/form-data", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "sector" in body and "缺少" in body
    assert stored() == (0, 0)


def test_cli_score_refuses_missing_feature_columns(runner, champion, tmp_path):
    source = tmp_path / "applicants.csv"
    source.write_bytes(applicants_csv(10, drop=("defaulted", "eco_colour")))
    result = runner.invoke(args=["lending", "score", "--csv", str(source), "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 2 and "eco_colour" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_uploads_past_the_retention_period_are_deleted_and_the_record_kept(api, champion, drain_jobs, runner,
                                                                          client, login, create_user):
    from datetime import timedelta

    from greenfin.core.types import utcnow

    officer = api("loan_officer")
    old, recent = (upload(officer, applicants_csv(20, seed=s)).headers["Location"] for s in (1, 2))
    drain_jobs()
    old_batch, recent_batch = db.session.scalars(select(ScoreBatch).order_by(ScoreBatch.id)).all()
    old_batch.created_at = utcnow() - timedelta(days=91)
    db.session.commit()
    assert officer.get(f"{old}/scored.csv").status_code == 200  # writes the scored file on this machine
    assert scored_path(old_batch.id).exists()

    assert runner.invoke(args=["lending", "purge-batches", "--older-than", "0"]).exit_code == 2
    result = runner.invoke(args=["lending", "purge-batches"])  # the default: 90 days
    assert result.exit_code == 0, result.output
    assert '"purged": [%d]' % old_batch.id in result.output
    db.session.expire_all()
    assert old_batch.purged_at is not None and old_batch.input == b"" and recent_batch.purged_at is None
    assert not scored_path(old_batch.id).exists()
    gone = officer.get(f"{old}/scored.csv")
    assert gone.status_code == 410 and gone.json["code"] == "gone"
    record = officer.get(old).json
    assert record["purged_at"] and record["rows"] == 20 and record["input_sha256"] == old_batch.input_sha256
    assert officer.get(f"{recent}/scored.csv").status_code == 200
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lending.score_batch.purge")).all()
    assert event.entity_id == str(old_batch.id)
    again = runner.invoke(args=["lending", "purge-batches"])
    assert '"purged": []' in again.output  # nothing twice

    login(create_user("loan_officer"))
    page = client.get("/lending/models").get_data(as_text=True)
    assert "已删除（超过保存期限）" in page and f"/lending/score-batches/{old_batch.id}/scored.csv" not in page
    response = client.get(f"/lending/score-batches/{old_batch.id}/scored.csv", follow_redirects=True)
    assert "已按保存期限规定删除" in response.get_data(as_text=True)


def test_a_batch_still_queued_is_not_purged(api, champion):
    from datetime import timedelta

    from greenfin.core.types import utcnow

    assert upload(api("loan_officer"), applicants_csv(5)).status_code == 202  # no worker drains it
    batch = db.session.scalar(select(ScoreBatch))
    if batch.status != "queued":
        pytest.skip("jobs run inline here")
    batch.created_at = utcnow() - timedelta(days=400)
    assert modelling.purge_score_batches(90) == []
