"""A synthetic daily weather series for the demo stations. SYNTHETIC: not observed data.

The model is documented in docs/insurance.md ("The synthetic station series") and is deterministic
for a seed, so every ``make demo`` shows the same district:

- tmin: a seasonal mean for Guangfeng's climate (about 3.5 °C in mid-January, 25 °C in mid-July:
  ``TMIN_MEAN + TMIN_AMPLITUDE × sin(2π (day of year − 105) / 365)``) plus a station offset and an
  AR(1) anomaly (persistence 0.7; spread 2.6 °C in winter, 1.4 °C in summer), so cold spells last
  several days; tmax is tmin plus a diurnal range of 6-10 °C.
- precipitation: a wet day with the month's probability (wettest in May-June's plum rains, driest
  in October-December), its amount exponential with the month's mean.

The same CSV format as real station data (``station,date,tmin,tmax,precipitation``), so a real
series is imported the same way (``flask insurance import-weather FILE``).
"""
from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from typing import Iterable, Iterator

import numpy as np

TMIN_MEAN = 14.3
TMIN_AMPLITUDE = 10.8
PERSISTENCE = 0.7
WET_PROBABILITY = (0.42, 0.50, 0.58, 0.58, 0.60, 0.62, 0.45, 0.42, 0.35, 0.25, 0.28, 0.30)  # by month
WET_MEAN_MM = (6.0, 8.0, 11.0, 13.0, 16.0, 20.0, 14.0, 12.0, 9.0, 7.0, 6.5, 5.5)


def series(station: str, start: date, end: date, seed: int, offset: float = 0.0) -> Iterator[tuple]:
    """(station, day, tmin, tmax, precipitation) for every day from ``start`` to ``end``, rounded to 0.1."""
    rng = np.random.default_rng(seed)
    anomaly = 0.0
    day = start
    while day <= end:
        doy = day.timetuple().tm_yday
        season = math.sin(2 * math.pi * (doy - 105) / 365)
        spread = 2.0 - 0.6 * season  # 2.6 °C in winter, 1.4 °C in summer
        anomaly = PERSISTENCE * anomaly + math.sqrt(1 - PERSISTENCE ** 2) * spread * rng.standard_normal()
        tmin = TMIN_MEAN + TMIN_AMPLITUDE * season + offset + anomaly
        tmax = tmin + rng.uniform(6.0, 10.0)
        month = day.month - 1
        wet = rng.random() < WET_PROBABILITY[month]
        precip = rng.exponential(WET_MEAN_MM[month]) if wet else 0.0
        yield station, day, round(tmin, 1), round(tmax, 1), round(precip, 1)
        day += timedelta(days=1)


def to_csv(rows: Iterable[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("station", "date", "tmin", "tmax", "precipitation"))
    for station, day, tmin, tmax, precip in rows:
        writer.writerow((station, day.isoformat(), f"{tmin:.1f}", f"{tmax:.1f}", f"{precip:.1f}"))
    return out.getvalue()
