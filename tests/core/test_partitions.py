"""``flask db partitions``: what holds on every database (PostgreSQL's partitions: tests/traceability/test_scan_partitions.py)."""
from datetime import date

import pytest
from hypothesis import given, strategies as st

from greenfin.core import partitions
from greenfin.errors import ValidationFailed
from tests.conftest import using_postgres


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 12, 31)), st.integers(-1200, 1200))
def test_add_months_moves_by_whole_months_and_back(day, count):
    month = date(day.year, day.month, 1)
    moved = partitions.add_months(month, count)
    assert moved.day == 1
    assert (moved.year * 12 + moved.month) - (month.year * 12 + month.month) == count
    assert partitions.add_months(moved, -count) == month


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "26-01", "2026/01", "", "2026-1"])
def test_parse_month_names_the_bad_month(value):
    with pytest.raises(ValidationFailed) as caught:
        partitions.parse_month(value)
    assert "YYYY-MM" in caught.value.errors["before"][0]


def test_detach_refuses_a_bad_month_with_a_message(runner):
    result = runner.invoke(args=["db", "partitions", "detach", "--before", "2026-13"])
    assert result.exit_code == 2 and "before" in result.output and "YYYY-MM" in result.output


@pytest.mark.skipif(using_postgres(), reason="SQLite keeps plain tables")
def test_sqlite_keeps_plain_tables(runner):
    assert partitions.partitioned_tables() == []
    result = runner.invoke(args=["db", "partitions", "ensure"])
    assert result.exit_code == 0 and "created 0 partition(s)" in result.output
    refused = runner.invoke(args=["db", "partitions", "detach", "--before", "2026-01"])
    assert refused.exit_code == 2 and "PostgreSQL only" in refused.output
