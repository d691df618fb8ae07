"""Pricing by backtest: a product's index run over every complete season of a station's history."""
from __future__ import annotations

from decimal import Decimal

from greenfin.core.services import record_audit
from greenfin.errors import N_, ValidationFailed
from greenfin.insurance import rules
from greenfin.insurance.models import IndexProduct, WeatherStation
from greenfin.insurance.services.products import terms_of
from greenfin.insurance.services.weather import readings


def run_backtest(product: IndexProduct, station: WeatherStation, *, audit: bool = False) -> dict:
    """Payout frequency, expected loss and the premium (expected loss × the product's loading)
    over the station's complete seasons; refused with fewer than ``rules.MIN_BACKTEST_SEASONS``."""
    held = {day: (float(tmin), float(precip)) for day, (tmin, _tmax, precip) in readings(station.id).items()}
    result = rules.backtest(terms_of(product), (product.season_start, product.season_end), held,
                            Decimal(product.sum_insured_per_ha), Decimal(product.loading))
    if len(result.seasons) < rules.MIN_BACKTEST_SEASONS:
        raise ValidationFailed(N_("Too few seasons of weather data for a backtest"), {
            "station_id": [f"{station.code} has {len(result.seasons)} complete seasons for {product.code}; "
                           f"at least {rules.MIN_BACKTEST_SEASONS} are needed"]})
    out = {
        "product": f"{product.code} v{product.version}", "station": station.code, "synthetic": station.synthetic,
        "seasons": [{"season": s.season, "coverage": s.coverage, "events": len(s.events),
                     "worst_index": (min if terms_of(product).lower_is_worse else max)(
                         (e.index for e in s.events), default=None),
                     "share": s.share, "loss_per_ha": (s.share * product.sum_insured_per_ha).quantize(rules.CENT)}
                    for s in result.seasons],
        "skipped": result.skipped, "frequency": result.frequency, "expected_loss_rate": result.expected_loss_rate,
        "expected_loss_per_ha": result.expected_loss_per_ha, "loading": Decimal(product.loading),
        "premium_rate": result.premium_rate, "premium_per_ha": result.premium_per_ha,
        "current_premium_rate": Decimal(product.premium_rate),
    }
    if audit:
        record_audit("insurance.backtest", "ins_product", product.id,
                     after={"station": station.code, "seasons": len(result.seasons), "frequency": result.frequency,
                            "expected_loss_rate": result.expected_loss_rate, "premium_rate": result.premium_rate})
    return out
