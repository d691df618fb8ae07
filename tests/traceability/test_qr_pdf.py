"""The fast QR encoder equals qrcode's; every label of a generated sheet decodes with zbar."""
import csv
import subprocess
from pathlib import Path

import pytest
import qrcode
from hypothesis import given, settings, strategies as st
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.util import MODE_8BIT_BYTE, QRData
from pyzbar.pyzbar import ZBarSymbol, decode

from traceability.pdf import LAYOUTS, LabelText, render_label_sheet
from traceability.qr import encoder, version_for

DPI = 200


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=180), st.sampled_from([ERROR_CORRECT_M, ERROR_CORRECT_Q]), st.integers(0, 7))
def test_fast_qr_matches_qrcode(data, level, mask):
    version = version_for(len(data), level)
    q = qrcode.QRCode(version=version, error_correction=level, border=0, mask_pattern=mask)
    q.add_data(QRData(data, mode=MODE_8BIT_BYTE))
    q.make(fit=False)
    assert [[bool(x) for x in row] for row in q.modules] == encoder(version, level, mask).matrix(data)


def test_fast_qr_rejects_overflow():
    with pytest.raises(ValueError):
        encoder(2).codewords(b"x" * 100)


def label_cells(layout_name, page_png):
    """Cut a rendered page into its label cells (zbar reads one code per cell reliably)."""
    layout = LAYOUTS[layout_name]
    image = Image.open(page_png).convert("L")
    scale = DPI / 72.0
    for row in range(layout.rows):
        for col in range(layout.cols):
            x0 = layout.margin_x + col * (layout.label_w + layout.gap_x)
            top = layout.margin_y + row * (layout.label_h + layout.gap_y)
            yield image.crop((int(x0 * scale), int(top * scale), int((x0 + layout.label_w) * scale),
                              int((top + layout.label_h) * scale)))


def decode_pdf(pdf: Path, layout_name: str, tmp_path: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", str(DPI), "-mono", "-aa", "no", "-aaVector", "no", str(pdf),
                    str(tmp_path / "page")], check=True)
    found = []
    for page in sorted(tmp_path.glob("page-*.pbm")):
        for cell in label_cells(layout_name, page):
            found.extend(r.data.decode() for r in decode(cell, symbols=[ZBarSymbol.QRCODE]))
    return found


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_label_on_a_sheet_decodes(layout, tmp_path):
    labels = [(f"https://trace.example.test/01/06901234567892/10/MJY-26A/21/SER{i:013d}?s=abcdEFGH_-12", f"SER{i:013d}")
              for i in range(LAYOUTS[layout].per_page + 3)]
    out = tmp_path / "sheet.pdf"
    text = LabelText("马家柚鲜果 5kg 礼盒", "MJY-26A", "2026-10-20", "绿色食品 · 地理标志", "马家柚 Majia pomelo")
    assert render_label_sheet(str(out), layout, text, iter(labels)) == len(labels)
    assert sorted(decode_pdf(out, layout, tmp_path)) == sorted(uri for uri, _s in labels)


def test_cli_writes_pdf_and_csv_that_agree(app, runner, create_lot, tmp_path):
    lot = create_lot()
    out = tmp_path / "labels.pdf"
    result = runner.invoke(args=["trace", "labels", "--lot", lot.code, "--count", "30", "--layout", "a4-4x10",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30 and set(rows[0]) == {"uri", "gtin", "lot", "serial"}
    assert all(r["lot"] == lot.code and r["gtin"] == lot.product.gtin and r["uri"].endswith("") for r in rows)
    decoded = decode_pdf(out, "a4-4x10", tmp_path)
    assert sorted(decoded) == sorted(r["uri"] for r in rows)
    assert all(f"/21/{r['serial']}?s=" in r["uri"] for r in rows)


def test_canvas_fallback_also_decodes(tmp_path):
    from traceability.pdf import _render_canvas

    labels = [(f"https://trace.example.test/01/06901234567892/10/L1/21/S{i:05d}?s=abcdEFGH_-12", f"S{i:05d}")
              for i in range(30)]
    out = tmp_path / "canvas.pdf"
    text = LabelText("马家柚茶", "L1", "2026-10-20", "", "")
    assert _render_canvas(str(out), LAYOUTS["a4-3x8"], text, iter(labels), "Helvetica", None, 500) == 30
    assert sorted(decode_pdf(out, "a4-3x8", tmp_path)) == sorted(u for u, _s in labels)


def test_sheet_text_is_extractable_chinese(tmp_path):
    out = tmp_path / "t.pdf"
    text = LabelText("马家柚鲜果 5kg 礼盒", "MJY-26A", "2026-10-20", "绿色食品", "马家柚")
    render_label_sheet(str(out), "a4-3x8", text, iter([("https://x.test/01/06901234567892/10/A/21/B?s=c", "SERIAL123")]))
    extracted = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "马家柚鲜果" in extracted and "SERIAL123" in extracted and "MJY-26A" in extracted


def test_probe_12_names_labels_cannot_print_are_refused_with_the_characters(create_party, create_brand):
    from greenfin.errors import ValidationFailed
    from greenfin.pdf import unprintable
    from tests.traceability.conftest import make_gtin
    from traceability import services

    assert unprintable("马家柚鲜果 5kg 礼盒") == "" and unprintable("𠮷野𠮷柚𪚥") == "𠮷𪚥"
    owner = create_party()
    with pytest.raises(ValidationFailed) as caught:
        services.create_product({"gtin": make_gtin(), "name": "𠮷家柚礼盒", "owner_id": owner.id})
    assert caught.value.errors["name"] == [services.UNPRINTABLE, "𠮷"]
    with pytest.raises(ValidationFailed) as caught:
        services.create_brand({"name": "马家柚", "name_en": "Majia 𪚥"})
    assert caught.value.errors == {"name_en": [services.UNPRINTABLE, "𪚥"]}


def test_probe_12_every_character_a_label_accepts_prints_as_itself(tmp_path):
    """What the checks let through is drawn with real glyphs: the PDF's text reads back unchanged."""
    from greenfin.pdf import unprintable

    name = "廣豐·鲜柚（特级）"
    assert unprintable(name) == ""
    out = tmp_path / "t.pdf"
    render_label_sheet(str(out), "a4-3x8", LabelText(name, "L/1", "2026-10-20", "", ""),
                       iter([("https://x.test/01/06901234567892/10/L%2F1/21/B?s=c", "SERIAL123")]))
    extracted = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert name in extracted
