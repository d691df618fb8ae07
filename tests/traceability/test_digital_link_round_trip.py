"""Probe item 7: every GS1 AI 82 lot code survives label → printed QR → phone → scan = genuine.

The label percent-encodes the lot (``digital_link.link_path``); the server decodes the path
before routing, "/" included; the scan route takes the lot back whole (``digital_link.split_path``).
"""
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from greenfin.core.identifiers import GS1_AI82
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from tests.traceability.test_qr_pdf import decode_pdf
from traceability import digital_link as dl
from traceability import services
from traceability.pdf import MASK, LabelText, render_label_sheet
from traceability.qr import encoder, version_for

LOT_CODES = st.text(alphabet=sorted(GS1_AI82), min_size=1, max_size=20).filter(lambda c: c not in dl.DOT_SEGMENTS)


@pytest.fixture
def client(app):
    """Each request a phone that keeps no cookies, so that each is a scan of its own (the same
    browser opening a label again is tests/traceability/test_scan_repeat.py's)."""
    return app.test_client(use_cookies=False)


def printed_and_read(uri: str) -> str:
    """The URI as a phone's camera reads it back from the label's QR code (our encoder, zbar)."""
    matrix = encoder(version_for(len(uri.encode())), mask=MASK).matrix(uri.encode())
    size, scale, quiet = len(matrix), 4, 4
    image = Image.new("L", ((size + 2 * quiet) * scale,) * 2, 255)
    pixels = image.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    for dx in range(scale):
                        pixels[(x + quiet) * scale + dx, (y + quiet) * scale + dy] = 0
    (symbol,) = decode(image, symbols=[ZBarSymbol.QRCODE])
    return symbol.data.decode()


def as_a_phone_sends(uri: str) -> str:
    """The request target a phone's browser sends: path and query as printed, percent-encoded."""
    parts = urlsplit(uri)
    return parts.path + "?" + parts.query


@pytest.fixture
def lot_maker(create_product):
    product = create_product()
    made = {}

    def make(code):
        """A new label of the lot with this code (made once): its URI and serial."""
        if code not in made:
            made[code] = services.create_lot({"code": code, "product_id": product.id, "quantity": "10",
                                              "producer_id": product.owner_id, "unit": "KGM", "parcel_ids": []})
        batch = services.create_label_batch(made[code], 1, "a4-3x8")
        services.issue_labels(batch)
        db.session.commit()
        return next(services.iter_batch_labels(batch))

    return make


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=LOT_CODES)
@example(code="MJY/2026/01")
@example(code="/")
@example(code="A//B/")
@example(code="X/21/Y/21")
@example(code="10/21")
@example(code="%2F")
@example(code="%")
@example(code="a+b?c;d=e&f")
@example(code="...")
@example(code="!\"%&'()*+,-./:;<=>?_")
def test_probe_7_every_ai82_lot_code_scans_genuine(client, lot_maker, code):
    uri, serial = lot_maker(code)
    assert f"/10/{quote(code, safe='')}/21/" in uri  # every reserved character is encoded on the label
    read = printed_and_read(uri)
    assert read == uri
    body = client.get(as_a_phone_sends(read), headers={"Accept": "application/json"}).get_json()
    assert (body["verdict"], body["serial"], body["lot"]["code"]) == ("genuine", serial, code)


def test_probe_7_lot_with_slash_scans_genuine_from_a_printed_sheet(client, lot_maker, tmp_path):
    uri, serial = lot_maker("MJY/26/A")
    out = tmp_path / "sheet.pdf"
    render_label_sheet(str(out), "a4-3x8", LabelText("马家柚", "MJY/26/A", "2026-10-20", "", ""), iter([(uri, serial)]))
    (read,) = decode_pdf(out, "a4-3x8", tmp_path)
    response = client.get(as_a_phone_sends(read))
    assert response.status_code == 200 and "正品" in response.get_data(as_text=True)
    again = client.get(as_a_phone_sends(read), headers={"Accept": "application/json"}).get_json()
    assert (again["verdict"], again["previous_scans"]) == ("genuine_repeat", 1)


def test_probe_7_a_forged_slash_lot_is_still_not_genuine(client, lot_maker):
    uri, _serial = lot_maker("A/B")
    forged = as_a_phone_sends(uri).replace("/10/A%2FB/", "/10/A%2FC/")
    assert client.get(forged).status_code == 404
    assert client.get(as_a_phone_sends(uri).replace("/21/", "/21/X/21/")).status_code == 404


@pytest.mark.parametrize("code", [".", ".."])
def test_create_lot_refuses_codes_a_browser_rewrites(create_product, code):
    product = create_product()
    with pytest.raises(ValidationFailed) as caught:
        services.create_lot({"code": code, "product_id": product.id, "producer_id": product.owner_id,
                             "quantity": "10", "unit": "KGM", "parcel_ids": []})
    assert "code" in caught.value.errors


def test_split_path_takes_the_lot_between_the_gtin_and_the_last_21():
    assert dl.split_path("06901234567892/10/A/21/B/21/SER") == ("06901234567892", "A/21/B", "SER")
    assert dl.split_path("06901234567892/10///21/SER") == ("06901234567892", "/", "SER")  # lot "/"
    assert dl.split_path("06901234567892/10//21/SER") is None  # an empty lot
    assert dl.split_path("06901234567892/10/A/B") is None
    assert dl.split_path("06901234567892/21/SER") is None
