"""The GEP formulas: vectorised == per-parcel reference, shares, and Jiangxi plausibility."""
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin.gep import engine, reference, services

PARAMS = {year: {k: v for k, v, *_ in reference.reference_rows(year)} for year in (2024, 2025)}

parcel_strategy = st.fixed_dictionaries({
    "area_ha": st.floats(min_value=0.01, max_value=5000, allow_nan=False),
    "land_cover": st.sampled_from(engine.COVERS),
    "k_factor": st.none() | st.floats(min_value=0, max_value=0.1),
    "ls_factor": st.none() | st.floats(min_value=0, max_value=100),
    "npp": st.none() | st.floats(min_value=0, max_value=3000),
    "yield_t_ha": st.none() | st.floats(min_value=0, max_value=200),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(parcel_strategy, min_size=1, max_size=40), st.sampled_from([2024, 2025]))
def test_vectorised_equals_reference_on_random_parcels(parcels, year):
    params = PARAMS[year]
    vectorised = engine.compute_vectorised(engine.ParcelArrays.from_records(parcels), params)
    for i, parcel in enumerate(parcels):
        expected = engine.compute_reference(parcel, params)
        assert set(expected) == set(vectorised)
        for code, (qty, value) in expected.items():
            assert vectorised[code][0][i] == pytest.approx(qty, rel=1e-12, abs=1e-9)
            assert vectorised[code][1][i] == pytest.approx(value, rel=1e-12, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10 ** 12, places=2), min_size=1, max_size=14))
def test_shares_always_sum_to_100(values):
    pct = services.shares({str(i): v for i, v in enumerate(values)})
    if sum(values) > 0:
        assert sum(pct.values()) == Decimal("100.00")
        for key, value in zip(pct, values):
            # each share within one rounding step of the exact share
            assert abs(pct[key] - value * 100 / sum(values)) <= Decimal("0.01")
    else:
        assert set(pct.values()) == {Decimal("0.00")}


@settings(max_examples=60, deadline=None)
@given(parcel_strategy)
def test_category_shares_of_a_parcel_sum_to_100(parcel):
    out = engine.compute_reference(parcel, PARAMS[2025])
    by_cat = {c: Decimal(0) for c in engine.CATEGORIES}
    for code, (_q, v) in out.items():
        by_cat[engine.SERVICE_BY_CODE[code].category] += Decimal(round(v * 100)) / 100
    pct = services.shares(by_cat)
    assert sum(pct.values()) in (Decimal("100.00"), Decimal("0.00"))


def test_values_never_negative_and_scale_with_area():
    records = [{"area_ha": a, "land_cover": c} for c in engine.COVERS for a in (1.0, 2.0)]
    out = engine.compute_vectorised(engine.ParcelArrays.from_records(records), PARAMS[2025])
    for code, (qty, value) in out.items():
        assert (qty >= 0).all() and (value >= 0).all(), code
        np.testing.assert_allclose(value[1::2], 2 * value[0::2], rtol=1e-12)


def test_soil_retention_formula():
    """Qsr = R·K·LS·(1 − C·P)·A for a forest parcel with measured K and LS."""
    p = PARAMS[2025]
    out = engine.compute_reference({"area_ha": 10, "land_cover": "forest", "k_factor": 0.03, "ls_factor": 4}, p)
    expected = p["rainfall_erosivity"] * 0.03 * 4 * (1 - p["cover_c.forest"] * p["practice_p.forest"]) * 10
    assert out["soil_retention"][0] == pytest.approx(expected)


def test_water_conservation_formula():
    """Q = (P − R − ET)·A, R = P × runoff coefficient; 1 mm over 1 ha = 10 m³."""
    p = PARAMS[2025]
    out = engine.compute_reference({"area_ha": 2, "land_cover": "forest"}, p)
    mm = p["precipitation_mm"] * (1 - p["runoff_coef.forest"]) - p["et_mm.forest"]
    assert out["water_conservation"][0] == pytest.approx(mm * 10 * 2)
    assert out["water_conservation"][1] == pytest.approx(mm * 10 * 2 * p["price_reservoir"])


def test_missing_parameter_is_named():
    params = dict(PARAMS[2025])
    del params["price_carbon"]
    with pytest.raises(engine.MissingParameter, match="price_carbon"):
        engine.compute_reference({"area_ha": 1, "land_cover": "forest"}, params)


# Jiangxi 2019: GEP ≈ 2.90 trillion CNY over ≈ 166,900 km² ≈ 17.4 million CNY per km²,
# provisioning ≈ 13 %, regulating ≈ 63 %, cultural ≈ 23 %.
JIANGXI_PER_KM2 = 2.90e12 / 166_900


@pytest.mark.parametrize("year", [2024, 2025])
def test_guangfeng_land_mix_is_of_jiangxi_order(year):
    """The district's land-cover mix (forest 55 %, farmland 20 %, orchards 10 %, water, built land)
    valued with the reference tables lands near Jiangxi's published figures.

    Tolerance: per-km² value within a factor of 1.5 of Jiangxi's (a county differs from the
    provincial mean: Guangfeng is less forested than Jiangxi's 63 % and has more orchards and
    built land, and prices moved between 2019 and the price year); each category share within
    5 percentage points of the provincial shares, which tests the structure of the accounts.
    """
    params = PARAMS[year]
    records = [{"area_ha": params[f"district_area_ha.{c}"], "land_cover": c} for c in engine.COVERS]
    out = engine.compute_vectorised(engine.ParcelArrays.from_records(records), params)
    total = sum(v.sum() for _q, v in out.values())
    area_km2 = sum(r["area_ha"] for r in records) / 100
    per_km2 = total / area_km2
    assert JIANGXI_PER_KM2 / 1.5 <= per_km2 <= JIANGXI_PER_KM2 * 1.5, per_km2
    cats = {c: sum(v.sum() for code, (_q, v) in out.items() if engine.SERVICE_BY_CODE[code].category == c)
            for c in engine.CATEGORIES}
    shares = {c: 100 * v / total for c, v in cats.items()}
    for category, published in (("provisioning", 13), ("regulating", 63), ("cultural", 23)):
        assert abs(shares[category] - published) <= 5, (category, shares)
