"""Damage incidents recorded from the page and the CLI: the same service verb, its checks and its audit."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from greenfin.compensation.models import DamageIncident
from greenfin.extensions import db
from greenfin.gep import services as gep

ZH = {"Accept-Language": "zh-CN"}


def _count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(DamageIncident))


def _form(district, **overrides):
    forest = [p for p in district if p.land_cover == "forest"]
    data = {"reference": "GF-2025-P01", "occurred_on": "2025-07-01", "parcel_codes": ", ".join(p.code for p in forest),
            "area_ha": "10", "restoration_years": "3", "services": ["carbon_sequestration", "soil_retention"]}
    data.update(overrides)
    return data


def test_the_form_is_for_staff(district, client, create_user, login):
    login(create_user("regulator"))
    page = client.get("/compensation/damage/new", headers=ZH).get_data(as_text=True)
    assert "固碳" in page and "土壤保持" in page and 'value="carbon_sequestration"' in page
    assert 'href="/compensation/damage/new"' in client.get("/compensation", headers=ZH).get_data(as_text=True)
    client.get("/logout")
    login(create_user("producer"))
    assert client.get("/compensation/damage/new").status_code == 403
    assert client.post("/compensation/damage/new", data=_form(district)).status_code == 403
    assert _count() == 0


def test_a_valid_post_values_posts_and_shows_the_incident(district, client, create_user, create_party, login):
    login(create_user("regulator"))
    polluter = create_party()
    r = client.post("/compensation/damage/new", data=_form(district, party=polluter.uscc), headers=ZH)
    assert r.status_code == 302, r.get_data(as_text=True)
    incident = db.session.scalar(sa.select(DamageIncident).where(DamageIncident.reference == "GF-2025-P01"))
    assert r.headers["Location"].endswith(f"/compensation/damage/{incident.id}")
    forest = [p for p in district if p.land_cover == "forest"]
    share = Decimal(10) / sum((p.area_ha for p in forest), Decimal(0))
    expected = Decimal(0)
    for line in incident.basis["parcels"]:
        values = {s.service: s.value for s in gep.get_account(line["account_id"]).services}
        expected += (values["carbon_sequestration"] + values["soil_retention"]) * share * 3
    assert incident.value == expected.quantize(Decimal("0.01")) > 0
    assert incident.party_id == polluter.id and incident.posting_id is not None
    audit = db.session.execute(sa.text("select count(*) from audit_events where action = 'compensation.damage.value' "
                                       "and entity_id = :i"), {"i": str(incident.id)}).scalar_one()
    assert audit == 1
    page = client.get(r.headers["Location"], headers=ZH).get_data(as_text=True)
    assert f"{incident.value:,.2f}" in page and "固碳" in page and "土壤保持" in page and polluter.name in page
    assert "已记录" in page  # the flash
    assert "carbon_sequestration" not in page and "soil_retention" not in page
    assert all(p.code in page for p in forest) and "GF-2025" in page
    assert f"/credit/parties/{polluter.id}/ledger" in page
    listing = client.get("/compensation", headers=ZH).get_data(as_text=True)
    assert f"/compensation/damage/{incident.id}" in listing


@pytest.mark.parametrize("overrides, field_text", [
    ({"parcel_codes": "NOPE-1 NOPE-2"}, "NOPE-1, NOPE-2"),
    ({"services": ["carbon_sequestration", "unicorns"]}, "unicorns"),
    ({"area_ha": "1000"}, "不得超过"),
    ({"area_ha": "abc"}, "必须是数字"),
    ({"reference": "", "occurred_on": "", "parcel_codes": "", "services": []}, "至少"),
])
def test_bad_input_shows_the_form_again_and_stores_nothing(district, client, create_user, login, overrides, field_text):
    login(create_user("regulator"))
    r = client.post("/compensation/damage/new", data=_form(district, **overrides), headers=ZH)
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert field_text in page and 'has-error' in page
    assert "must " not in page and "unknown" not in page.lower().replace("unknowns", "")
    assert _count() == 0


def test_unknown_service_is_refused_by_the_service_and_the_api(district, api):
    r = api("regulator").post("/api/v1/compensation/damage", json={
        "reference": "GF-2025-D09", "occurred_on": "2025-08-01", "parcel_ids": [district[2].id], "area_ha": "1",
        "restoration_years": "2", "services": ["water_purification", "moonlight"]})
    assert r.status_code == 422, r.json
    assert "moonlight" in str(r.json) and "services" in str(r.json)
    assert _count() == 0


def test_cli_records_and_refuses(district, runner, create_user, create_party):
    user, polluter = create_user("regulator"), create_party()
    forest = [p for p in district if p.land_cover == "forest"]
    args = ["compensation", "damage", "--reference", "GF-2025-C01", "--occurred-on", "2025-07-01",
            "--area-ha", "10", "--years", "3", "--service", "carbon_sequestration", "--party", polluter.uscc,
            "--as", user.username]
    for p in forest:
        args += ["--parcel", p.code]
    r = runner.invoke(args=args)
    assert r.exit_code == 0, r.output
    incident = db.session.scalar(sa.select(DamageIncident).where(DamageIncident.reference == "GF-2025-C01"))
    assert f"incident {incident.id}" in r.output and f"{incident.value:,.2f}" in r.output
    assert f"penalty posting {incident.posting_id}" in r.output and incident.created_by_id == user.id
    bad = ["compensation", "damage", "--reference", "GF-2025-C02", "--occurred-on", "2025-13-01",
           "--parcel", "NOPE-9", "--area-ha", "x", "--years", "3", "--service", "unicorns"]
    r = runner.invoke(args=bad)
    assert r.exit_code != 0
    for text in ("occurred_on", "parcel_codes: unknown parcel codes: NOPE-9", "area_ha", "services: unknown GEP services: unicorns"):
        assert text in r.output, r.output
    assert db.session.scalar(sa.select(DamageIncident.id).where(DamageIncident.reference == "GF-2025-C02")) is None
