"""Damage valuation: lost GEP at locked prices, traced to accounts, attached to the penalty posting."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from greenfin.compensation import services
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from greenfin.gep import services as gep


def test_damage_is_lost_gep_and_posts_the_penalty_with_the_figure(district, as_user, create_party):
    as_user()
    polluter = create_party()
    forest = [p for p in district if p.land_cover == "forest"]
    incident = services.value_damage({
        "reference": "GF-2025-D01", "party_id": polluter.id, "occurred_on": "2025-07-01",
        "parcel_ids": [p.id for p in forest], "area_ha": "10", "restoration_years": "3",
        "services": ["carbon_sequestration", "soil_retention"]})
    # recompute from the cited accounts
    share = Decimal(10) / sum((p.area_ha for p in forest), Decimal(0))
    expected = Decimal(0)
    for line in incident.basis["parcels"]:
        account = gep.get_account(line["account_id"])
        assert account.version.code == line["price_version"] == "GF-2025"
        values = {s.service: s.value for s in account.services}
        expected += (values["carbon_sequestration"] + values["soil_retention"]) * share * 3
    assert incident.value == expected.quantize(Decimal("0.01")) > 0
    evidence = db.session.execute(sa.text("select evidence from credit_postings where id = :i"),
                                  {"i": incident.posting_id}).scalar_one()
    assert str(incident.value) in str(evidence)


def test_damage_input_errors_are_named(district, as_user):
    as_user()
    with pytest.raises(ValidationFailed) as exc:
        services.value_damage({"reference": "", "occurred_on": "x", "parcel_ids": [], "area_ha": "-1",
                               "restoration_years": "0", "services": []})
    assert {"reference", "occurred_on", "parcel_ids", "area_ha", "restoration_years", "services"} <= set(exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        services.value_damage({"reference": "R", "occurred_on": "2025-01-01", "parcel_ids": [district[0].id],
                               "area_ha": "1000", "restoration_years": "1", "services": ["carbon_sequestration"]})
    assert "area_ha" in exc.value.errors


def test_damage_api(district, api):
    r = api("regulator").post("/api/v1/compensation/damage", json={
        "reference": "GF-2025-D02", "occurred_on": "2025-08-01", "parcel_ids": [district[2].id], "area_ha": "1",
        "restoration_years": "2", "services": ["water_purification"]})
    assert r.status_code == 201, r.json
    assert Decimal(r.json["value"]) > 0 and r.json["posting_id"] is None
    assert api("producer").get(f"/api/v1/compensation/damage/{r.json['id']}").status_code == 403
