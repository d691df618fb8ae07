"""flask --app greenfin pools cut | tape | project | report."""
import csv
import io
from datetime import date

import pytest

from greenfin.extensions import db
from greenfin.pools import services
from greenfin.pools.tape import read_loan_tape


@pytest.fixture
def pool(create_pool, create_loan, pay_through):
    pool = create_pool()
    loans = [create_loan(disbursed_on=date(2026, 1, 10)) for _ in range(2)]
    for loan in loans:
        pay_through(loan, date(2026, 9, 30))
    services.add_loans(pool, [l.id for l in loans], added_on=date(2026, 6, 30), as_of=date(2026, 6, 30))
    db.session.commit()
    return pool


def test_cli_cut_tape_project_report(runner, pool, tmp_path):
    result = runner.invoke(args=["pools", "cut", "--pool", str(pool.id), "--as-of", "2026-06-30"])
    assert result.exit_code == 0, result.output
    assert "2 loans" in result.output and "published" in result.output
    tape = tmp_path / "tape.csv"
    result = runner.invoke(args=["pools", "tape", "--pool", str(pool.id), "--out", str(tape)])
    assert result.exit_code == 0, result.output
    assert len(read_loan_tape(tape.read_text(encoding="utf-8"))) == 2
    out = tmp_path / "projection.csv"
    result = runner.invoke(args=["pools", "project", "--pool", str(pool.id), "--cpr", "0.06", "--cdr", "0.02",
                                 "--severity", "0.4", "--months", "24", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 25 and "WAL" in result.output
    pdf = tmp_path / "report.pdf"
    result = runner.invoke(args=["pools", "report", "--pool", str(pool.id), "--month", "2026-08", "--out", str(pdf)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")


def test_cli_errors_are_clear(runner, pool, tmp_path):
    result = runner.invoke(args=["pools", "cut", "--pool", "99999"])
    assert result.exit_code == 2 and "pool not found" in result.output
    result = runner.invoke(args=["pools", "tape", "--pool", str(pool.id), "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 2 and "Publish a pool cut first" in result.output
    result = runner.invoke(args=["pools", "project", "--pool", str(pool.id), "--cpr", "-0.5", "--cdr", "2", "--out",
                                 str(tmp_path / "p.csv")])
    assert result.exit_code == 2
    # The message once, then each bad field once on its own line.
    assert result.output.splitlines() == ["error: Invalid assumptions", "  cpr: must lie between 0 and 100%",
                                          "  cdr: must lie between 0 and 100%"]
    assert not (tmp_path / "p.csv").exists()
    result = runner.invoke(args=["pools", "report", "--pool", str(pool.id), "--month", "2026-8",
                                 "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    assert result.output.count("YYYY-MM") == 1 and result.output.count("error:") == 1


def test_cli_projection_rows_reconcile(runner, pool, tmp_path):
    """Every month of the CSV: collections = fees + all interest + all principal + reserve change + residual."""
    out = tmp_path / "projection.csv"
    result = runner.invoke(args=["pools", "project", "--pool", str(pool.id), "--cpr", "0.1", "--cdr", "0.05",
                                 "--severity", "0.4", "--lag", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    columns = list(rows[0])
    tranches = [c.removesuffix("_balance") for c in columns if c.endswith("_balance")]
    assert tranches == ["A", "B", "C"]
    paid = ["fees", "reserve_change", "residual"] + [f"{t}_{k}" for t in tranches for k in ("interest", "principal")]
    assert {"call_proceeds", "reserve_change", "residual"} <= set(columns)
    deal = [r for r in rows if r["collections"] != ""]  # the clean-up call ends the deal before the loans end
    assert 12 < len(deal) < len(rows) and float(deal[-1]["call_proceeds"]) > 0
    for row in deal:
        # Each figure is rounded to the cent on its own: they agree within that rounding.
        gap = float(row["collections"]) - sum(float(row[c]) for c in paid)
        assert abs(gap) <= 0.005 * (len(paid) + 1), (row["month"], gap)
    assert sum(float(r["residual"]) for r in deal) > 0
