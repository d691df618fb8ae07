"""The scan URIs as a GS1-conformant resolver: the linkset (RFC 9264, GS1 link types), link-type
redirects to the right targets, /.well-known/gs1resolver; none of them records a consumer scan,
and the consumer page stays the default."""
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from sqlalchemy import func, select

from greenfin.extensions import db
from traceability import resolver, services
from traceability.models import Scan

SCHEMA = json.loads((Path(__file__).with_name("linkset_schema.json")).read_text())
LINKSET = "application/linkset+json"


@pytest.fixture
def client(app):
    return app.test_client(use_cookies=False)


def scans_count():
    return db.session.scalar(select(func.count(Scan.id)))


def label(create_lot, issue_labels, **lot):
    created = create_lot(**lot)
    uri, serial = next(services.iter_batch_labels(issue_labels(created, 2)))
    parts = urlsplit(uri)
    return created, uri, parts.path + "?" + parts.query


def local(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + ("?" + parts.query if parts.query else "")


@pytest.mark.parametrize("how", ["accept", "all"])
def test_linkset_validates_against_the_schema_and_records_no_scan(client, create_lot, issue_labels, how):
    lot, uri, path = label(create_lot, issue_labels)
    response = (client.get(path, headers={"Accept": LINKSET}) if how == "accept"
                else client.get(path + "&linkType=all"))
    assert response.status_code == 200 and response.mimetype == LINKSET
    body = json.loads(response.data)
    jsonschema.validate(body, SCHEMA, cls=jsonschema.Draft202012Validator)
    context = body["linkset"][0]
    assert context["anchor"] == uri.split("?")[0]
    for short in resolver.LINK_TYPES:
        assert context[resolver.link_type_uri(short)][0]["href"].startswith("https://trace.example.test/")
    assert context["https://gs1.org/voc/defaultLink"] == context["https://gs1.org/voc/pip"]
    assert 'rel="linkset"' in response.headers["Link"]
    assert scans_count() == 0


def test_schema_refuses_what_is_not_a_gs1_linkset():
    good = {"linkset": [{"anchor": "https://x.test/01/06901234567892/10/A1/21/S1",
                         "https://gs1.org/voc/defaultLink": [{"href": "https://x.test/p"}]}]}
    jsonschema.validate(good, SCHEMA)
    for bad in ({"links": good["linkset"]},
                {"linkset": [{"https://gs1.org/voc/defaultLink": [{"href": "https://x.test/p"}]}]},
                {"linkset": [good["linkset"][0] | {"https://example.org/voc/pip": [{"href": "https://x.test/p"}]}]},
                {"linkset": [good["linkset"][0] | {"https://gs1.org/voc/pip": {"href": "https://x.test/p"}}]},
                {"linkset": [good["linkset"][0] | {"https://gs1.org/voc/pip": [{"title": "no href"}]}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)


@pytest.mark.parametrize("link_type", ["gs1:pip", "gs1:certificationInfo", "gs1:traceability", "gs1:recallStatus",
                                       "https://gs1.org/voc/certificationInfo", "gs1:defaultLink"])
def test_each_link_type_redirects_to_its_page(client, create_lot, issue_labels, link_type):
    lot, _uri, path = label(create_lot, issue_labels)
    response = client.get(path + "&linkType=" + link_type)
    assert response.status_code == 307
    target = client.get(local(response.headers["Location"]))
    assert target.status_code == 200
    short = resolver.parse_link_type(link_type)
    if short == "gs1:pip":
        html = target.get_data(as_text=True)
        assert target.mimetype == "text/html" and lot.code in html and "马家柚鲜果 5kg 礼盒" in html
        assert '<section class="card">' in html and "&lt;" not in html  # the lot's facts as HTML, not as text
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None and len(target.data) < 100 * 1024
    elif short == "gs1:certificationInfo":
        assert target.json["lot"] == lot.code and "certifications" in target.json
    elif short == "gs1:traceability":
        assert target.json["lot"]["code"] == lot.code and target.json["origin"][0]["name"] == "古村柚园"
    else:
        assert target.json == {"lot": lot.code, "gtin": lot.product.gtin, "recalled": False,
                               "recalled_at": None, "reason": None}
    assert scans_count() == 0


def test_recall_status_follows_a_recall(client, create_lot, issue_labels):
    lot, _uri, path = label(create_lot, issue_labels)
    services.recall_lot(lot, "农药残留超标", actor_id=None)
    db.session.commit()
    target = local(client.get(path + "&linkType=gs1:recallStatus").headers["Location"])
    body = client.get(target).json
    assert body["recalled"] is True and body["reason"] == "农药残留超标" and body["recalled_at"]
    page = client.get(local(client.get(path + "&linkType=gs1:pip").headers["Location"])).get_data(as_text=True)
    assert "农药残留超标" in page and "已召回" in page


def test_unknown_link_type_is_a_clear_400(client, create_lot, issue_labels):
    _lot, _uri, path = label(create_lot, issue_labels)
    response = client.get(path + "&linkType=gs1:nutritionalInfo")
    assert response.status_code == 400 and "gs1:nutritionalInfo" in response.json["message"]
    assert "gs1:pip" in response.json["link_types"] and scans_count() == 0


def test_forged_label_gets_no_links_and_counts_as_guessing(client, create_lot, issue_labels, monkeypatch):
    from traceability.services import scans

    noted = []
    monkeypatch.setattr(scans, "note_unrecognised_scan", lambda client_ip, path: noted.append(path))
    _lot, _uri, path = label(create_lot, issue_labels)
    forged = re.sub(r"s=[^&]+", "s=AAAAAAAAAAAA", path)
    response = client.get(forged + "&linkType=all")
    assert response.status_code == 404 and response.json["verdict"] == "not_genuine"
    assert scans_count() == 0 and noted == [forged.split("?")[0]]


def test_consumer_page_is_still_the_default(client, create_lot, issue_labels):
    lot, _uri, path = label(create_lot, issue_labels)
    for accept in (None, "text/html,application/xhtml+xml,*/*;q=0.8", "*/*"):
        response = client.get(path, headers={"Accept": accept} if accept else {})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.mimetype == "text/html" and lot.code in html
        assert len(response.data) < 100 * 1024 and re.search(r"<script(?![^>]*\bsrc=)", html) is None
        assert "linkType=all" in response.headers["Link"]
    assert scans_count() == 3


def test_public_lot_page_hides_an_individual_producer(client, create_lot, issue_labels, create_party):
    person = create_party(kind="individual")
    lot, _uri, path = label(create_lot, issue_labels, producer=person)
    target = local(client.get(path + "&linkType=gs1:pip").headers["Location"])
    html = client.get(target).get_data(as_text=True)
    assert person.name not in html and lot.code in html


def test_well_known_describes_the_resolver(client):
    body = client.get("/.well-known/gs1resolver").json
    assert body["resolverRoot"] == "https://trace.example.test"
    assert set(resolver.LINK_TYPES) <= set(body["linkTypes"]) and body["supportedPrimaryKeys"] == ["01"]


AI82 = "".join(sorted(set("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
                      - set("/")))


def test_every_label_linkset_has_the_schema_shape():
    """Hypothesis: whatever GTIN, lot and serial a label carries, its linkset has the RFC 9264 /
    GS1 shape, lists every link type once, and each short name and full URI name the same type."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from traceability import digital_link as dl

    @settings(max_examples=200, deadline=None)
    @given(gtin=st.from_regex(r"[0-9]{14}", fullmatch=True), lot=st.text(AI82, min_size=1, max_size=20),
           serial=st.text(dl.SERIAL_ALPHABET, min_size=1, max_size=20))
    def check(gtin, lot, serial):
        anchor = "https://trace.example.test/" + dl.link_path(gtin, lot, serial)
        targets = {k: f"https://trace.example.test/t/{i}" for i, k in enumerate(resolver.LINK_TYPES)}
        body = resolver.linkset(anchor, targets, {k: k for k in resolver.LINK_TYPES})
        jsonschema.validate(body, SCHEMA)
        keys = set(body["linkset"][0]) - {"anchor"}
        assert keys == {resolver.link_type_uri(k) for k in [*resolver.LINK_TYPES, resolver.DEFAULT]}
        for short in resolver.LINK_TYPES:
            assert resolver.parse_link_type(resolver.link_type_uri(short)) == short == resolver.parse_link_type(short)

    check()
