"""Check characters of the identifiers the platform accepts (GB 32100, GB 11643, GS1)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenfin.core import identifiers as ids

USCC_BODY = st.tuples(
    st.sampled_from(["91", "93", "51", "N2", "12"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ids.USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


def test_uscc_known_code_validates():
    # A real, published code (Alibaba (China) Co., Ltd., Hangzhou).
    assert ids.normalise_uscc("91330100799655058b") == "91330100799655058B"


@given(USCC_BODY)
def test_uscc_check_char_round_trips(body):
    code = body + ids.uscc_check_char(body)
    assert ids.normalise_uscc(code) == code


@given(USCC_BODY, st.integers(min_value=0, max_value=16), st.sampled_from(ids.USCC_ALPHABET))
def test_uscc_single_substitution_is_caught(body, position, replacement):
    code = body + ids.uscc_check_char(body)
    if code[position] == replacement or (2 <= position <= 7 and not replacement.isdigit()):
        return
    forged = code[:position] + replacement + code[position + 1:]
    with pytest.raises(ids.InvalidIdentifier):
        ids.normalise_uscc(forged)


@pytest.mark.parametrize("value, message", [
    ("9133010079965505", "18 characters"),
    ("91330100799655058I", "outside GB 32100"),
    ("91330100799655058C", "check character"),
])
def test_uscc_rejects_with_reason(value, message):
    with pytest.raises(ids.InvalidIdentifier, match=message):
        ids.normalise_uscc(value)


def test_resident_id_known_number_validates():
    # The standard's worked example: 11010519491231002X.
    assert ids.normalise_resident_id("11010519491231002x") == "11010519491231002X"


@given(st.dates(min_value=__import__("datetime").date(1920, 1, 1), max_value=__import__("datetime").date(2010, 12, 31)),
       st.integers(min_value=0, max_value=999))
def test_resident_id_round_trips_and_masks(birth, seq):
    body = f"361103{birth:%Y%m%d}{seq:03d}"
    number = body + ids.id_check_char(body)
    assert ids.normalise_resident_id(number) == number
    masked = ids.mask_resident_id(number)
    assert masked[:3] == number[:3] and masked[-4:] == number[-4:] and birth.strftime("%Y%m%d") not in masked


@pytest.mark.parametrize("value, message", [
    ("11010519491231002", "17 digits"),
    ("11010519491331002X", "not a real date"),
    ("110105194912310021", "check digit"),
])
def test_resident_id_rejects_with_reason(value, message):
    with pytest.raises(ids.InvalidIdentifier, match=message):
        ids.normalise_resident_id(value)


def test_keyed_hash_depends_on_key():
    assert ids.hash_resident_id("11010519491231002X", "a") != ids.hash_resident_id("11010519491231002X", "b")


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_gtin14_check_digit_round_trips(body):
    gtin = body + ids.gtin_check_digit(body)
    assert ids.normalise_gtin14(gtin) == gtin
    wrong = str((int(gtin[-1]) + 1) % 10)
    with pytest.raises(ids.InvalidIdentifier):
        ids.normalise_gtin14(gtin[:-1] + wrong)


def test_gtin13_is_padded_to_14():
    assert ids.normalise_gtin14("6901234567892") == "06901234567892"


def test_gs1_ai82_rejects_space_and_length():
    assert ids.validate_gs1_ai82("LOT-2026/01") == "LOT-2026/01"
    with pytest.raises(ids.InvalidIdentifier, match="outside"):
        ids.validate_gs1_ai82("LOT 1")
    with pytest.raises(ids.InvalidIdentifier, match="1 to 20"):
        ids.validate_gs1_ai82("A" * 21)


def test_why_stdnum_whole_number_checks_are_not_used():
    """stdnum's own validate() refuses numbers the district holds (see the module's docstring)."""
    from stdnum.cn import ric, uscc
    from stdnum.exceptions import ValidationError

    body = "N2361103MA35" + "B7X4Q"  # a village collective economic organisation (authority N, agriculture)
    collective = body + ids.uscc_check_char(body)
    assert ids.normalise_uscc(collective) == collective
    with pytest.raises(ValidationError):
        uscc.validate(collective)
    body = "36110319700101123"  # Guangfeng's district code (since 2015), born 1970
    elder = body + ids.id_check_char(body)
    assert ids.normalise_resident_id(elder) == elder
    with pytest.raises(ValidationError):
        ric.validate(elder)


@given(st.text(alphabet="0123456789", min_size=7, max_size=13).filter(lambda b: len(b) in (7, 11, 12, 13)))
def test_shorter_gtins_are_padded_and_checked(body):
    gtin = body + ids.gtin_check_digit(body)
    assert ids.normalise_gtin14(gtin) == gtin.zfill(14)
    with pytest.raises(ids.InvalidIdentifier, match="8, 12, 13 or 14"):
        ids.normalise_gtin14(gtin[:4] + " " + gtin[4:])
