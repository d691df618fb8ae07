"""The credit CLI: import with bad rows, post, rate, verify, and tamper evidence behind the app's back."""
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from credit import services
from credit.models import CreditPendingPosting, CreditPosting, Rating
from greenfin.extensions import db
from tests.conftest import using_postgres


def count_postings(party_id=None):
    stmt = select(func.count(CreditPosting.id))
    if party_id is not None:
        stmt = stmt.where(CreditPosting.party_id == party_id)
    return db.session.scalar(stmt)


def import_file(runner, drain_jobs, path):
    """``credit import`` without waiting, the job run by a worker (or inline), then ``credit intake N``."""
    started = runner.invoke(args=["credit", "import", "--no-wait", "--csv", str(path)])
    assert started.exit_code == 0 and started.output.startswith("intake "), started.output
    drain_jobs()
    db.session.expire_all()
    return runner.invoke(args=["credit", "intake", started.output.split()[1].rstrip(":")])


def test_import_reports_bad_rows_by_line_and_stores_nothing_from_them(runner, create_party, tmp_path, drain_jobs):
    firm = create_party()
    person = create_party(kind="individual")
    csv_file = tmp_path / "inspections.csv"
    csv_file.write_text(
        "party,rule_code,effective_date,document,inspector,note,source_id\n"
        f"{firm.uscc},FIRM_EMISSIONS_COMPLIANT,2026-09-10,GF-JC-0910,王巡查,,INS-1\n"
        f"{firm.uscc},NO_SUCH_RULE,2026-09-10,X,王巡查,,INS-2\n"
        f"{person.id},FIRM_DISCLOSURE,2026-09-10,X,王巡查,,INS-3\n"
        f"913611030000000000,FIRM_DISCLOSURE,2026-09-10,X,王巡查,,INS-4\n"
        f"{firm.uscc},FIRM_DISCLOSURE,2026-13-40,X,王巡查,,INS-5\n"
        f"{person.id},VIOL_STRAW_BURNING,2026-10-02,禁烧巡查,李环保,,INS-6\n"
        f"{person.id},GREEN_RIVER_PATROL,2026-10-03,巡河记录,李环保,,INS-7\n",
        encoding="utf-8")
    result = import_file(runner, drain_jobs, csv_file)
    assert result.exit_code == 1
    output = result.output
    assert "line 3: " in output and "NO_SUCH_RULE" in output
    assert "line 4: " in output and "does not apply" in output
    assert "line 5: unknown party" in output
    assert "line 6: effective_date" in output
    assert "line 2:" not in output and "line 7:" not in output and "line 8:" not in output
    assert "posted 2, pending review 1, already imported 0, bad rows 4" in output
    db.session.expire_all()
    assert count_postings(firm.id) == 1 and count_postings(person.id) == 1
    assert db.session.scalar(select(func.count(CreditPendingPosting.id)).where(
        CreditPendingPosting.party_id == person.id)) == 1
    again = import_file(runner, drain_jobs, csv_file)
    assert "posted 0, pending review 0, already imported 3, bad rows 4" in again.output
    assert count_postings(firm.id) == 1 and count_postings(person.id) == 1


def test_import_refuses_file_without_columns(runner, tmp_path):
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("name,points\nx,1\n", encoding="utf-8")
    result = runner.invoke(args=["credit", "import", "--csv", str(csv_file)])
    assert result.exit_code == 1 and "line 1: missing column(s) party, rule_code" in result.output


def test_post_command_is_idempotent(runner, create_party):
    firm = create_party()
    args = ["credit", "post", "--party", firm.uscc, "--rule", "FIRM_DISCLOSURE", "--key", "cli-1", "--document", "年报"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0 and "posted: FIRM_DISCLOSURE +3" in first.output
    second = runner.invoke(args=args)
    assert "replayed posted" in second.output
    assert count_postings(firm.id) == 1
    bad = runner.invoke(args=["credit", "post", "--party", firm.uscc, "--rule", "GREEN_WASTE_SORTING", "--key", "c2"])
    assert bad.exit_code == 2 and "does not apply" in bad.output


def test_rate_command_runs_the_job(runner, create_party, drain_jobs):
    firm = create_party()
    result = runner.invoke(args=["credit", "rate", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    assert "rating run" in result.output
    drain_jobs()
    db.session.expire_all()
    assert db.session.scalar(select(Rating.colour).where(Rating.party_id == firm.id)) == "blue"
    assert runner.invoke(args=["credit", "rate", "--period", "Q9"]).exit_code == 2


def test_verify_passes_on_a_sound_ledger(runner, create_party, post):
    party = create_party(kind="individual")
    post(party, "GREEN_TREE_PLANTING")
    post(party, "GREEN_RIVER_PATROL")
    result = runner.invoke(args=["credit", "verify"])
    assert result.exit_code == 0 and "ledger OK" in result.output


def _drop_update_trigger(connection):
    if using_postgres():
        connection.execute(text("DROP TRIGGER credit_postings_insert_only ON credit_postings"))
    else:
        connection.execute(text("DROP TRIGGER credit_postings_no_update"))


def test_database_refuses_update_and_delete_of_postings(create_party, post):
    posting = post(create_party(kind="individual"), "GREEN_TREE_PLANTING")
    connection = db.session.connection()
    for statement in (f"UPDATE credit_postings SET points = 99 WHERE id = {posting.id}",
                      f"DELETE FROM credit_postings WHERE id = {posting.id}"):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError) as err:
            connection.execute(text(statement))
        savepoint.rollback()
        assert "insert-only" in str(err.value)
    assert count_postings() >= 1


def test_verify_catches_a_row_edited_behind_the_app(runner, create_party, post):
    party = create_party(kind="individual")
    post(party, "GREEN_TREE_PLANTING")
    victim = post(party, "GREEN_RIVER_PATROL")
    post(party, "GREEN_WASTE_SORTING")
    connection = db.session.connection()
    _drop_update_trigger(connection)  # rolled back with the test's transaction
    connection.execute(text("UPDATE credit_postings SET points = 30 WHERE id = :id"), {"id": victim.id})
    db.session.expire_all()
    result = runner.invoke(args=["credit", "verify"])
    assert result.exit_code == 1
    assert f"first broken posting: {victim.id}" in result.output
    assert f"posting {victim.id}: content does not match its hash" in result.output


def test_verify_catches_a_deleted_row(runner, create_party, post):
    party = create_party(kind="individual")
    post(party, "GREEN_TREE_PLANTING")
    victim = post(party, "GREEN_RIVER_PATROL")
    after = post(party, "GREEN_WASTE_SORTING")
    connection = db.session.connection()
    if using_postgres():
        connection.execute(text("DROP TRIGGER credit_postings_insert_only ON credit_postings"))
    else:
        connection.execute(text("DROP TRIGGER credit_postings_no_delete"))
    connection.execute(text("DELETE FROM credit_postings WHERE id = :id"), {"id": victim.id})
    db.session.expire_all()
    result = runner.invoke(args=["credit", "verify"])
    assert result.exit_code == 1 and f"first broken posting: {after.id}" in result.output


def test_publish_due_command(runner, create_party):
    result = runner.invoke(args=["credit", "publish-due"])
    assert result.exit_code == 0 and "published 0 rating(s)" in result.output
