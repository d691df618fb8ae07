"""``flask carbon issue|transfer|retire|verify|report``: one unit of work each, clear errors, non-zero exits."""
from __future__ import annotations

from greenfin.carbon import services
from greenfin.extensions import db


def test_issue_transfer_retire_verify_and_report(runner, create_project, create_party, tmp_path):
    project = create_project()
    report = services.submit_report(project, {"vintage": 2023, "verified_tonnes": "1000", "verifier": "v",
                                              "document": "d"})
    db.session.commit()
    unapproved = runner.invoke(args=["carbon", "issue", "--report", str(report.id)])
    assert unapproved.exit_code == 2 and "only an approved report is issued" in unapproved.output
    services.decide_report(report, True)
    db.session.commit()
    issued = runner.invoke(args=["carbon", "issue", "--report", str(report.id)])
    assert issued.exit_code == 0 and "issued 900 t" in issued.output and "+100 t" in issued.output
    block = db.session.scalars(services.block_query(project_id=project.id, state="available")).one()
    buyer = create_party()
    bad = runner.invoke(args=["carbon", "transfer", "--block", str(block.id), "--quantity", "10", "--to",
                              str(buyer.id), "--price", "abc"])
    assert bad.exit_code == 2 and "unit_price" in bad.output
    sold = runner.invoke(args=["carbon", "transfer", "--block", str(block.id), "--quantity", "10", "--to",
                               str(buyer.id), "--price", "15"])
    assert sold.exit_code == 0 and "150.00 CNY" in sold.output
    cert = tmp_path / "cert.pdf"
    retired = runner.invoke(args=["carbon", "retire", "--block", str(block.id), "--quantity", "5", "--beneficiary",
                                  "广丰区马拉松", "--purpose", "赛事碳中和", "--certificate", str(cert)])
    assert retired.exit_code == 0, retired.output
    assert cert.read_bytes().startswith(b"%PDF")
    verified = runner.invoke(args=["carbon", "verify"])
    assert verified.exit_code == 0 and "ledger OK" in verified.output
    out = tmp_path / "totals.csv"
    reported = runner.invoke(args=["carbon", "report", "--out", str(out)])
    assert reported.exit_code == 0
    assert f"{project.code},2023,1000,895,0,5,100" in out.read_text(encoding="utf-8")
