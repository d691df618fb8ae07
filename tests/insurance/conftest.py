"""Insurance fixtures: a station with readings, index products, policies; factories as create_<thing>."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from greenfin.extensions import db
from greenfin.insurance import services, synthetic

FROST = {"code": "T-FROST", "name_zh": "测试霜冻指数", "name_en": "Test frost index", "peril": "frost",
         "land_cover": "orchard", "season_start": "12-01", "season_end": "02-28", "trigger": "-3", "exit": "-7",
         "payout_mode": "tiers",
         "tiers": [{"level": "-3", "share": "0.30"}, {"level": "-5", "share": "0.60"}, {"level": "-7", "share": "1"}],
         "sum_insured_per_ha": "10000", "premium_rate": "0.08", "loading": "1.5",
         "subsidy": {"central": "0.35", "provincial": "0.25", "county": "0.25", "farmer": "0.15"}}


SEASON_START = date(2025, 12, 1)


def import_season(station, frost: dict | None = None, days: int = 90) -> None:
    """Mild readings (4 °C) from 1 December 2025 for ``days`` days, with ``frost`` {day: tmin} instead."""
    frost = frost or {}
    tmins = [frost.get(SEASON_START + timedelta(days=i), 4.0) for i in range(days)]
    services.import_observations(readings_csv(station.code, SEASON_START, tmins))
    db.session.commit()


def readings_csv(station: str, start: date, tmins: list, precip: float = 0.0) -> str:
    """A CSV of consecutive days from ``start`` with the given minimum temperatures."""
    rows = [(station, start + timedelta(days=i), t, t + 8, precip) for i, t in enumerate(tmins)]
    return synthetic.to_csv(rows)


@pytest.fixture
def create_station():
    def factory(**overrides):
        data = {"code": f"T-{len(services.list_stations()) + 1:03d}", "name_zh": "测试站", "name_en": "Test station",
                "lat": Decimal("28.49"), "lon": Decimal("118.29")}
        data.update(overrides)
        station = services.create_station(data)
        db.session.commit()
        return station

    return factory


@pytest.fixture
def create_index_product():
    def factory(**overrides):
        data = dict(FROST)
        data.update(overrides)
        product = services.create_product(data)
        db.session.commit()
        return product

    return factory


@pytest.fixture
def frost_setup(create_station, create_index_product, create_parcel):
    """A station, the frost product, two orchard parcels beside the station (5.5 ha each) and their
    policies for the 2025 season (1 Dec 2025 - 28 Feb 2026). Readings: ``import_season``."""
    station = create_station()
    product = create_index_product()
    parcels = [create_parcel() for _ in range(2)]
    services.link_parcels([p.id for p in parcels])
    policies = [services.issue_policy({"product_id": product.id, "parcel_id": p.id, "season": 2025, "backdated": True})
                for p in parcels]
    db.session.commit()
    return station, product, parcels, policies
