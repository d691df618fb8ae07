"""The one home of the index rules: nearest station, season window, index events, payout shares,
premium split and the backtest. Pure functions of plain values (no database, no request), so
the tests can work examples by hand and Hypothesis can search them.

Perils and their index
- ``frost``: the day's minimum temperature (°C). A day triggers when ``tmin <= trigger``; an event is
  a spell of triggering days and its index is the spell's lowest tmin. More severe = lower.
- ``drought``: a day is dry when its precipitation is below ``dry_day_mm``; the index of a dry spell
  is its length in days, and the spell triggers once it is ``>= trigger`` days long. More severe = higher.
- ``excess_rain``: a day triggers when its precipitation is ``>= trigger`` mm; the index of a wet spell
  is its wettest day. More severe = higher.

A spell becomes an event when it is over: on the first observed day that does not continue it, or
at the season's end once the evaluation date is past it. A day without a reading neither continues
nor ends a spell (the import reports the gap; the spell waits for the data).

Payout share (0..1 of the sum insured): ``tiers`` pays the share of the most severe tier level the
index reached (a level is reached at the level itself); ``linear`` pays 0 until the trigger is
reached, rising linearly to 1 at the exit level and beyond. A policy's
claims in a season never add up to more than its sum insured (the aggregate limit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional, Sequence

import numpy as np

CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.000001")
ZERO = Decimal("0")
ONE = Decimal("1")
EARTH_RADIUS_KM = 6371.0088
MAX_STATION_KM = Decimal("50")  # a parcel farther than this from every station cannot be insured
MIN_BACKTEST_SEASONS = 20
MIN_SEASON_COVERAGE = 0.9  # a season enters the backtest when at least 90 % of its days have readings
LOWER_IS_WORSE = {"frost": True, "drought": False, "excess_rain": False}


# ---------------------------------------------------------------- stations


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance on the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_station(lat, lon, stations: Iterable[tuple[str, float, float]]) -> Optional[tuple[str, Decimal]]:
    """The nearest station (code, km to 3 places) by great-circle distance; a tie goes to the
    station whose code sorts first; None when every station is farther than ``MAX_STATION_KM``."""
    best = None
    for code, s_lat, s_lon in stations:
        km = Decimal(str(round(distance_km(float(lat), float(lon), float(s_lat), float(s_lon)), 3)))
        if best is None or (km, code) < (best[1], best[0]):
            best = (code, km)
    if best is None or best[1] > MAX_STATION_KM:
        return None
    return best


# ---------------------------------------------------------------- seasons


def parse_month_day(value: str) -> tuple[int, int]:
    month, day = (int(x) for x in value.split("-"))
    date(2024, month, day)  # raises ValueError on "02-30"
    return month, day


def season_bounds(start: str, end: str, season: int) -> tuple[date, date]:
    """The first and last day of the season that starts in ``season`` (a window that ends before
    it starts crosses new year; 29 February falls back to the 28th)."""
    (sm, sd), (em, ed) = parse_month_day(start), parse_month_day(end)
    end_year = season + 1 if (em, ed) < (sm, sd) else season

    def make(year, month, day):
        return date(year, month, 28) if (month, day) == (2, 29) and not _leap(year) else date(year, month, day)

    return make(season, sm, sd), make(end_year, em, ed)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def season_of(start: str, end: str, day: date) -> Optional[int]:
    """The season (its start year) ``day`` falls in, or None outside every season window."""
    for season in (day.year - 1, day.year):
        first, last = season_bounds(start, end, season)
        if first <= day <= last:
            return season
    return None


# ---------------------------------------------------------------- payout


@dataclass(frozen=True)
class Terms:
    """What the payout needs of a product version (Decimals as stored)."""

    peril: str
    trigger: Decimal
    exit: Decimal
    payout_mode: str
    tiers: tuple[tuple[Decimal, Decimal], ...] = ()  # (level, share), least severe first
    dry_day_mm: Optional[Decimal] = None

    @property
    def lower_is_worse(self) -> bool:
        return LOWER_IS_WORSE[self.peril]

    def reached(self, index, level) -> bool:
        return index <= level if self.lower_is_worse else index >= level


def payout_share(terms: Terms, index: Decimal) -> Decimal:
    """The share of the sum insured an event with this index pays, 0..1."""
    index = Decimal(index)
    if not terms.reached(index, terms.trigger):
        return ZERO
    if terms.payout_mode == "tiers":
        share = ZERO
        for level, tier_share in terms.tiers:
            if terms.reached(index, level):
                share = max(share, tier_share)
        return min(share, ONE)
    if terms.reached(index, terms.exit):
        return ONE
    share = (terms.trigger - index) / (terms.trigger - terms.exit)
    return min(ONE, max(ZERO, share)).quantize(SHARE_PLACES, ROUND_HALF_UP)


def payout_amount(share: Decimal, sum_insured: Decimal, already_paid: Decimal = ZERO) -> Decimal:
    """Share × sum insured in cents, within what the season's aggregate limit leaves."""
    amount = (Decimal(share) * Decimal(sum_insured)).quantize(CENT, ROUND_HALF_UP)
    return max(ZERO, min(amount, Decimal(sum_insured) - Decimal(already_paid)))


def payout_cents(share: Decimal, sums_insured_cents: np.ndarray, paid_cents: np.ndarray) -> np.ndarray:
    """``payout_amount`` for many policies at once, in integer cents: share × sum insured rounded
    half up (the share has 6 places, so the arithmetic is exact in int64), within each policy's
    remaining aggregate limit. The evaluation job and the bench use it."""
    micro = int((Decimal(share) * 1_000_000).to_integral_value(ROUND_HALF_UP))
    sums = np.asarray(sums_insured_cents, dtype=np.int64)
    amount = (sums * micro + 500_000) // 1_000_000
    return np.maximum(0, np.minimum(amount, sums - np.asarray(paid_cents, dtype=np.int64)))


def validate_terms(data: dict, errors: dict[str, list[str]]) -> None:
    """Check a product's index terms as a whole; problems go to ``errors`` by field."""
    peril, trigger, exit_, mode = data.get("peril"), data.get("trigger"), data.get("exit"), data.get("payout_mode")
    if peril not in LOWER_IS_WORSE or trigger is None or exit_ is None:
        return
    lower = LOWER_IS_WORSE[peril]
    if (lower and not exit_ < trigger) or (not lower and not exit_ > trigger):
        errors.setdefault("exit", []).append(
            "must be colder than the trigger" if lower else "must be more severe (higher) than the trigger")
    if peril == "drought" and not data.get("dry_day_mm"):
        errors.setdefault("dry_day_mm", []).append("a drought index needs the rainfall below which a day is dry")
    tiers = data.get("tiers") or []
    if mode == "tiers":
        if not tiers:
            errors.setdefault("tiers", []).append("give at least one tier (level and share)")
            return
        levels = [t[0] for t in tiers]
        shares = [t[1] for t in tiers]
        if levels[0] != trigger:
            errors.setdefault("tiers", []).append("the first tier's level must be the trigger")
        ordered = all((b < a) if lower else (b > a) for a, b in zip(levels, levels[1:]))
        if not ordered:
            errors.setdefault("tiers", []).append("levels must grow more severe from one tier to the next")
        if not all(b > a for a, b in zip(shares, shares[1:])) or not all(ZERO < s <= ONE for s in shares):
            errors.setdefault("tiers", []).append("shares must be above 0, at most 1 and grow from tier to tier")
        if any((lv < exit_) if lower else (lv > exit_) for lv in levels):
            errors.setdefault("tiers", []).append("no tier may lie beyond the exit level")


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Spell:
    start: int  # index into the season's days
    end: int  # last day of the spell (inclusive)
    index: Decimal


def _daily(terms: Terms, tmin: np.ndarray, precip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day: the index reading and whether the day continues a spell. NaN = no reading."""
    if terms.peril == "frost":
        values = tmin
        active = values <= float(terms.trigger)
    elif terms.peril == "excess_rain":
        values = precip
        active = values >= float(terms.trigger)
    else:
        values = precip
        active = values < float(terms.dry_day_mm or 0)
    return values, active


def find_spells(terms: Terms, tmin: Sequence[float], precip: Sequence[float], season_over: bool) -> list[Spell]:
    """The finished spells that reach the trigger, in a season's days (NaN: no reading)."""
    tmin = np.asarray(tmin, dtype=float)
    precip = np.asarray(precip, dtype=float)
    values, active = _daily(terms, tmin, precip)
    observed = ~np.isnan(values)
    active = active & observed
    obs_idx = np.flatnonzero(observed)
    if obs_idx.size == 0:
        return []
    act = active[obs_idx]
    # Runs of consecutive observed days that continue a spell (gaps are skipped, not breaks).
    edges = np.diff(np.concatenate(([0], act.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # stop: exclusive, in obs_idx
    spells = []
    for s, e in zip(starts, stops):
        finished = e < obs_idx.size or season_over
        if not finished:
            continue
        days = obs_idx[s:e]
        if terms.peril == "drought":
            index = Decimal(len(days))  # dry days observed in the spell
        elif terms.lower_is_worse:
            index = Decimal(str(round(float(values[days].min()), 1)))
        else:
            index = Decimal(str(round(float(values[days].max()), 1)))
        if terms.reached(index, terms.trigger):
            spells.append(Spell(int(days[0]), int(days[-1]), index))
    return spells


def find_spells_loop(terms: Terms, tmin: Sequence[float], precip: Sequence[float], season_over: bool) -> list[Spell]:
    """``find_spells`` written as a plain loop, day by day: the bench's per-policy baseline and
    the tests' second opinion."""
    spells, current = [], None
    for i, (t, p) in enumerate(zip(tmin, precip)):
        value = t if terms.peril == "frost" else p
        if value is None or value != value:
            continue
        if terms.peril == "frost":
            on = value <= float(terms.trigger)
        elif terms.peril == "excess_rain":
            on = value >= float(terms.trigger)
        else:
            on = value < float(terms.dry_day_mm or 0)
        if on:
            if current is None:
                current = [i, i, value, 1]
            else:
                current[1] = i
                current[3] += 1
                current[2] = min(current[2], value) if terms.lower_is_worse else max(current[2], value)
        elif current is not None:
            spells.append(current)
            current = None
    if current is not None and season_over:
        spells.append(current)
    out = []
    for start, end, worst, count in spells:
        index = Decimal(count) if terms.peril == "drought" else Decimal(str(round(float(worst), 1)))
        if terms.reached(index, terms.trigger):
            out.append(Spell(start, end, index))
    return out


# ---------------------------------------------------------------- premium


def split_premium(premium: Decimal, subsidy: dict[str, Decimal]) -> dict[str, Decimal]:
    """The premium by payer; the farmer's part takes the rounding, so the parts add up exactly."""
    parts = {k: (premium * Decimal(subsidy.get(k, 0))).quantize(CENT, ROUND_HALF_UP)
             for k in ("central", "provincial", "county")}
    parts["farmer"] = premium - sum(parts.values(), ZERO)
    return parts


# ---------------------------------------------------------------- backtest


@dataclass
class SeasonResult:
    season: int
    coverage: float
    events: list[Spell]
    share: Decimal  # of the sum insured, within the aggregate limit


@dataclass
class Backtest:
    seasons: list[SeasonResult] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # seasons with too few readings
    frequency: Decimal = ZERO  # share of seasons that paid
    expected_loss_rate: Decimal = ZERO  # mean season payout share
    expected_loss_per_ha: Decimal = ZERO
    premium_rate: Decimal = ZERO  # expected loss rate × loading
    premium_per_ha: Decimal = ZERO


def backtest(terms: Terms, season_window: tuple[str, str], readings: dict[date, tuple[float, float]],
             sum_insured_per_ha: Decimal, loading: Decimal) -> Backtest:
    """Run the index over every complete season of ``readings`` ({day: (tmin, precip)})."""
    result = Backtest()
    if not readings:
        return result
    first, last = min(readings), max(readings)
    for season in range(first.year - 1, last.year + 1):
        start, end = season_bounds(*season_window, season)
        if start < first or end > last:
            continue
        days = (end - start).days + 1
        tmin, precip = [], []
        for k in range(days):
            t, p = readings.get(start + timedelta(days=k), (math.nan, math.nan))
            tmin.append(t)
            precip.append(p)
        coverage = 1 - sum(1 for t in tmin if t != t) / days
        if coverage < MIN_SEASON_COVERAGE:
            result.skipped.append(season)
            continue
        spells = find_spells(terms, tmin, precip, season_over=True)
        share = min(ONE, sum((payout_share(terms, s.index) for s in spells), ZERO))
        result.seasons.append(SeasonResult(season, round(coverage, 4), spells, share))
    n = len(result.seasons)
    if n:
        paid = sum(1 for s in result.seasons if s.share > 0)
        result.frequency = (Decimal(paid) / n).quantize(SHARE_PLACES, ROUND_HALF_UP)
        result.expected_loss_rate = (sum((s.share for s in result.seasons), ZERO) / n).quantize(SHARE_PLACES, ROUND_HALF_UP)
        result.expected_loss_per_ha = (result.expected_loss_rate * sum_insured_per_ha).quantize(CENT, ROUND_HALF_UP)
        result.premium_rate = (result.expected_loss_rate * loading).quantize(SHARE_PLACES, ROUND_HALF_UP)
        result.premium_per_ha = (result.premium_rate * sum_insured_per_ha).quantize(CENT, ROUND_HALF_UP)
    return result
