"""greenfin/numbers.py: the one Decimal parser."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenfin.numbers import parse_decimal, read_decimal, to_decimal


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_to_decimal_reads_any_finite_decimal_exactly_from_its_text(number):
    assert to_decimal(str(number)) == number and to_decimal(f"  {number} ") == number


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "abc", "五万", "", None, [], "1,000"])
def test_to_decimal_refuses_what_is_not_a_finite_number(value):
    assert to_decimal(value) is None


def test_parse_decimal_names_the_field_and_the_problem():
    errors: dict = {}
    assert parse_decimal("12.50", "amount", errors) == Decimal("12.50") and errors == {}
    assert parse_decimal("abc", "amount", errors) is None
    assert parse_decimal("NaN", "income", errors) is None
    assert errors == {"amount": ["must be a number"], "income": ["must be a finite number"]}
    assert read_decimal("NaN").is_nan() and read_decimal("x") is None
