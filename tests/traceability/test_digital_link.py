"""Serials, signatures and Digital Link URIs."""
from hypothesis import given, strategies as st

from greenfin.core.identifiers import GS1_AI82, validate_gs1_ai82
from traceability import digital_link as dl


def test_new_serials_are_unique_and_in_the_ai82_set():
    serials = dl.new_serials(5000)
    assert len(set(serials)) == 5000
    for s in serials[:200]:
        assert len(s) == dl.SERIAL_LENGTH <= 20 and validate_gs1_ai82(s) == s
        assert set(s) <= set(dl.SERIAL_ALPHABET) <= GS1_AI82


@given(st.text(alphabet=sorted(GS1_AI82), min_size=1, max_size=20), st.text(alphabet="ABC123", min_size=1, max_size=20))
def test_verify_accepts_own_signature_only(lot, serial):
    gtin = "06901234567892"
    sig = dl.sign("key-a", gtin, lot, serial)
    assert dl.verify("key-a", gtin, lot, serial, sig)
    assert not dl.verify("key-b", gtin, lot, serial, sig)
    assert not dl.verify("key-a", gtin, lot, serial + "X", sig)
    assert not dl.verify("key-a", gtin, lot, serial, sig[:-1] + ("A" if sig[-1] != "A" else "B"))
    assert not dl.verify("key-a", gtin, lot, serial, None)


def test_label_uri_has_the_digital_link_shape():
    uri = dl.label_uri("https://t.example/", "06901234567892", "MJY-1/2", "ABC", "s" * 12)
    assert uri == "https://t.example/01/06901234567892/10/MJY-1%2F2/21/ABC?s=ssssssssssss"


def test_sscc_has_a_valid_check_digit():
    from greenfin.core.identifiers import gtin_check_digit

    code = dl.sscc("06901234567892", 42).rsplit("/", 1)[1]
    assert len(code) == 18 and gtin_check_digit(code[:17]) == code[17]
