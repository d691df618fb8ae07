"""Probe item 10: CSV cells that cannot run as formulas, download names that cannot break headers."""
import csv
import io
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenfin.downloads import (DictWriter, ascii_filename, content_disposition, safe_cell, safe_filename,
                                safe_frame, writer)

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
            "  =cmd|' /C calc'!A0", "\n-1+1", "=", "-", "@", "-12.50 ", "- 5"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_probe_10_formula_cells_get_a_leading_quote(cell):
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.50", "+3", "-0.5", "-.5", "-1e5", "12", "马家柚", "a=b", "GFP-1", "", "'=1"])
def test_keep_plain_numbers_and_harmless_text(cell):
    assert safe_cell(cell) == cell


@pytest.mark.parametrize("value", [Decimal("-12.50"), -3, -0.25, None, True])
def test_keep_values_that_are_not_text(value):
    assert safe_cell(value) is value


@given(st.text())
def test_neutralise_any_text_reversibly(text):
    """Only a quote is ever added, and no text leaves starting a formula unless it is a plain number."""
    out = safe_cell(text)
    assert out in (text, "'" + text)
    starts_formula = text[:1] in ("\t", "\r") or text.lstrip()[:1] in ("=", "+", "-", "@")
    if out == text and starts_formula:
        assert _plain_number(text)


def _plain_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return text == text.strip() and not any(c.isalpha() and c not in "eE" for c in text)


def test_writers_neutralise_rows_and_dicts():
    buf = io.StringIO()
    w = writer(buf)
    w.writerow(["=1+1", Decimal("-5.00"), "-5.00"])
    w.writerows([["@x", 1]])
    d = DictWriter(buf, fieldnames=["a", "b"])
    d.writerow({"a": "+cmd", "b": "ok"})
    d.writerows([{"a": "-1-1", "b": -1}])
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows == [["'=1+1", "-5.00", "-5.00"], ["'@x", "1"], ["'+cmd", "ok"], ["'-1-1", "-1"]]


def test_safe_frame_neutralises_text_columns_only():
    frame = pd.DataFrame({"name": ["=1+1", "ok", None], "amount": [-1.5, 2.0, 3.0], "=col": ["-3", "x", "y"]})
    out = safe_frame(frame)
    assert list(out.columns) == ["name", "amount", "'=col"]
    assert out["name"].tolist()[:2] == ["'=1+1", "ok"] and out["name"].isna().tolist()[2]
    assert out["amount"].tolist() == [-1.5, 2.0, 3.0] and out["'=col"].tolist() == ["-3", "x", "y"]
    assert frame["name"].tolist()[0] == "=1+1"  # the input is left alone


@pytest.mark.parametrize("name, expected", [
    ("trace-LOT1.csv", "trace-LOT1.csv"),
    ("=HYPERLINK(1).csv", "HYPERLINK(1).csv"),
    ("-+@=x.csv", "x.csv"),
    ('a"b\r\nContent-Type: text/html.csv', "a_b__Content-Type_ text_html.csv"),
    ("../../etc/passwd", "etc_passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("", "download"),
    ("===", "download"),
    (".hidden", "hidden"),
])
def test_probe_10_download_names_are_sanitised(name, expected):
    assert safe_filename(name) == expected


def test_probe_10_content_disposition_has_ascii_fallback_and_utf8_name():
    header = content_disposition("=trace-马家柚\"/x.csv")
    assert header.startswith('attachment; filename="trace-_x.csv"; filename*=UTF-8\'\'')
    assert unquote(header.split("''", 1)[1]) == "trace-马家柚_x.csv"
    assert "\r" not in header and "\n" not in header and header.count('"') == 2
    assert content_disposition("报告.pdf", inline=True) == ("inline; filename=\"download.pdf\"; "
                                                          "filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf")
    assert ascii_filename("café.csv") == "cafe.csv"


@given(st.text())
def test_download_name_is_always_header_safe(name):
    header = content_disposition(name)
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback and all(c.isascii() and (c.isalnum() or c in "._-") for c in fallback)
    assert fallback[0] not in "=+-@." and header.isascii()
    utf8 = unquote(header.split("''", 1)[1])
    assert utf8 and utf8[0] not in "=+-@. " and not any(c in utf8 for c in "/\\\"\r\n")
