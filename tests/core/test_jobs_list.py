"""The jobs list (/jobs, /api/v1/jobs): filters, who sees what, links to each job's subject; job stages as labels."""
import ast
import pathlib

from greenfin.extensions import db
from greenfin.job_model import JOB_STAGE_UNKNOWN, JOB_STAGES, stage_text
from greenfin.jobs import discard_pending, enqueue
from greenfin.uow import commit

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _job(title, *, func="tests.core.sample_jobs.rename_party", status="finished", party_id=None, user=None,
         subject=None):
    job = enqueue(func, {"party_id": 0, "name": "x"}, title=title, party_id=party_id, subject=subject)
    job.status, job.created_by_id = status, user.id if user else None
    discard_pending()  # listed, never run
    return job


def test_jobs_page_filters_by_status_and_links_to_subject(client, login, create_user, create_party):
    admin = create_user("admin")
    party = create_party()
    _job("打印标签 L1", subject=("core.party_detail", {"party_id": party.id}))
    _job("失败的任务", status="failed")
    commit()
    login(admin)
    page = client.get("/jobs?lang=zh_CN").get_data(as_text=True)
    assert "打印标签 L1" in page and "失败的任务" in page
    assert f'href="/parties/{party.id}"' in page, "the job links to its subject"
    failed = client.get("/jobs?status=failed&lang=zh_CN").get_data(as_text=True)
    assert "失败的任务" in failed and "打印标签 L1" not in failed
    assert "失败" in failed  # the status as a label, not the code


def test_job_page_links_back_to_subject(client, login, create_user, create_party):
    admin = create_user("admin")
    party = create_party()
    job = _job("评级", status="started", subject=("core.party_detail", {"party_id": party.id}))
    job.message = "drawing 40/500"
    commit()
    login(admin)
    page = client.get(f"/jobs/{job.id}?lang=zh_CN").get_data(as_text=True)
    assert f'href="/parties/{party.id}"' in page
    assert "drawing" not in page and "40/500" in page


def test_producer_sees_only_own_party_jobs(client, login, create_user, create_party):
    mine, other = create_party(), create_party()
    producer = create_user("producer", party=mine)
    _job("我的任务", party_id=mine.id)
    _job("别人的任务", party_id=other.id)
    commit()
    login(producer)
    page = client.get("/jobs").get_data(as_text=True)
    assert "我的任务" in page and "别人的任务" not in page


def test_jobs_api_filters_kind_and_status(api):
    caller = api("admin")
    _job("a", status="failed")
    _job("b", func="tests.core.sample_jobs.fail_after_write", status="finished")
    commit()
    body = caller.get("/api/v1/jobs?status=failed").get_json()
    assert [j["title"] for j in body] == ["a"]
    body = caller.get("/api/v1/jobs?kind=tests.core.sample_jobs.fail_after_write").get_json()
    assert [j["title"] for j in body] == ["b"]
    assert caller.get("/api/v1/jobs?status=nonsense").status_code == 422


def test_stage_text_is_a_label_with_its_count(app):
    with app.test_request_context("/?lang=zh_CN"):
        assert stage_text("drawing 40/500") == f"{JOB_STAGES['drawing']} 40/500"
        assert stage_text("something-new") == str(JOB_STAGE_UNKNOWN)
        assert stage_text(None) == ""


def _stages_named_in_code():
    """Every literal stage passed to ``progress(percent, "<stage>", ...)`` in the packages."""
    found = set()
    for folder in ("greenfin", "credit", "traceability"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "progress"
                        and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                        and isinstance(node.args[1].value, str)):
                    found.add((str(path.relative_to(ROOT)), node.args[1].value))
    return found


def test_every_stage_a_job_names_has_a_label():
    named = _stages_named_in_code()
    assert len(named) >= 8
    missing = sorted(f"{path}: {stage}" for path, stage in named if stage not in JOB_STAGES)
    assert not missing, missing


def test_starting_a_job_from_a_page_says_so_and_links_back(client, login, create_user, drain_jobs):
    login(create_user("loan_officer"))
    response = client.post("/lending/loans/refresh-delinquency?lang=zh_CN", follow_redirects=True)
    drain_jobs()  # on Redis the job waits for a worker: run it, so no other test meets it
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "已在后台开始" in html
    assert 'href="/lending/portfolio"' in html, "the job page links back to what it works on"
