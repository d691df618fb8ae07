"""``scorecard.read_csv`` sniffs the separator from the header line and reads with the C engine:
the frame pandas' python engine reads with the right separator. (Left to itself, the python
engine's sniffer took a letter of a header such as ``amount|applicant_id`` for the separator.)"""
import csv
import io

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.lending.scoring.data import read_csv

CELL = st.one_of(st.just(""), st.sampled_from(["NA", "n/a", "12,345", " 7 ", "¥300", "绿", "大南镇", "a\"b", "x;y"]),
                 st.text(alphabet="abc 123.,-绿色", max_size=8), st.integers(-10**6, 10**6).map(str),
                 st.floats(allow_nan=False, allow_infinity=False).map(repr))


COLUMNS = ["applicant_id", "eco_colour", "township", "sector", "annual_income", "total_debts", "amount",
           "term_months", "years_in_business", "guarantor_count", "乡镇", "行业"]


@st.composite
def csv_files(draw):
    """Loan-book-like CSVs: a header of column names, then cells with separators, quotes, blanks,
    Chinese text and numbers written by ``csv.writer`` (so quoted where they must be)."""
    separator = draw(st.sampled_from([",", ";", "\t", "|"]))
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=2, max_size=6, unique=True))
    rows = draw(st.lists(st.lists(CELL, min_size=len(columns), max_size=len(columns)), min_size=1, max_size=12))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=separator, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(columns)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return text.getvalue().encode(encoding), separator


def python_engine(data: bytes, separator: str) -> pd.DataFrame:
    """The python engine with the right separator: UTF-8 (BOM or not), else GB18030."""
    def attempt(encoding):
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=True, sep=separator, engine="python",
                           encoding=encoding, on_bad_lines="skip")
    try:
        return attempt("utf-8-sig")
    except UnicodeDecodeError:
        return attempt("gb18030")


@settings(max_examples=150, deadline=None)
@given(csv_files())
def test_read_csv_equals_the_python_engine_with_the_right_separator(case):
    data, separator = case
    pd.testing.assert_frame_equal(read_csv(data), python_engine(data, separator))


def test_read_csv_reads_a_path_and_ragged_lines_like_the_python_engine(tmp_path):
    path = tmp_path / "book.csv"
    path.write_bytes("id;colour;income\n1;green;12,5\n2;red\n3;blue;7;extra\n4;yellow;9\n".encode("gb18030"))
    expected = pd.read_csv(path, dtype=str, sep=None, engine="python", encoding="gb18030", on_bad_lines="skip")
    pd.testing.assert_frame_equal(read_csv(str(path)), expected)
