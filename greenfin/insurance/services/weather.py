"""Stations, their daily observations (CSV import: validated, duplicates and gaps reported) and the
parcel-to-station links (the nearest-station rule in ``rules.nearest_station``)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Optional

from sqlalchemy import func, select

from greenfin.core.models import Parcel
from greenfin.core.services import record_audit, snapshot
from greenfin.errors import N_, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.insurance import rules
from greenfin.insurance.models import ParcelStation, WeatherObservation, WeatherStation
from greenfin.numbers import parse_decimal

STATION_FIELDS = ("code", "name_zh", "name_en", "lat", "lon", "elevation_m", "synthetic")
CSV_COLUMNS = ("station", "date", "tmin", "tmax", "precipitation")
TEMP_RANGE = (Decimal("-40"), Decimal("50"))
PRECIP_MAX = Decimal("1000")


# ---------------------------------------------------------------- stations


def list_stations() -> list[WeatherStation]:
    return list(db.session.scalars(select(WeatherStation).order_by(WeatherStation.code)))


def get_station(station_id: int) -> WeatherStation:
    station = db.session.get(WeatherStation, station_id)
    if station is None:
        raise NotFound(N_("station not found"), {"station_id": [f"unknown station {station_id}"]})
    return station


def find_station(code: str) -> Optional[WeatherStation]:
    return db.session.scalar(select(WeatherStation).where(WeatherStation.code == (code or "").strip()))


def create_station(data: dict) -> WeatherStation:
    errors: dict[str, list[str]] = {}
    code = (data.get("code") or "").strip()
    if not code or len(code) > 32:
        errors["code"] = ["is required (at most 32 characters)"]
    elif find_station(code) is not None:
        errors["code"] = [f"station {code} exists already"]
    for key in ("name_zh", "name_en"):
        if not (data.get(key) or "").strip():
            errors[key] = ["is required"]
    lat = parse_decimal(data.get("lat"), "lat", errors)
    lon = parse_decimal(data.get("lon"), "lon", errors)
    if lat is not None and not -90 <= lat <= 90:
        errors["lat"] = ["must be between -90 and 90"]
    if lon is not None and not -180 <= lon <= 180:
        errors["lon"] = ["must be between -180 and 180"]
    if errors:
        raise ValidationFailed(N_("Invalid station"), errors)
    station = WeatherStation(code=code, name_zh=data["name_zh"].strip(), name_en=data["name_en"].strip(),
                             lat=lat, lon=lon, elevation_m=data.get("elevation_m"),
                             synthetic=bool(data.get("synthetic")))
    db.session.add(station)
    db.session.flush()
    record_audit("insurance.station.create", "ins_station", station.id, after=snapshot(station, STATION_FIELDS))
    return station


def observation_span(station_id: int) -> tuple[Optional[date], Optional[date], int]:
    first, last, count = db.session.execute(
        select(func.min(WeatherObservation.observed_on), func.max(WeatherObservation.observed_on),
               func.count(WeatherObservation.id)).where(WeatherObservation.station_id == station_id)).one()
    return first, last, count


def readings(station_id: int, start: Optional[date] = None, end: Optional[date] = None) -> dict[date, tuple]:
    """{day: (tmin, tmax, precip_mm)} as Decimals, for a station between two days."""
    stmt = select(WeatherObservation.observed_on, WeatherObservation.tmin, WeatherObservation.tmax,
                  WeatherObservation.precip_mm).where(WeatherObservation.station_id == station_id)
    if start is not None:
        stmt = stmt.where(WeatherObservation.observed_on >= start)
    if end is not None:
        stmt = stmt.where(WeatherObservation.observed_on <= end)
    return {d: (tmin, tmax, p) for d, tmin, tmax, p in db.session.execute(stmt)}


def observation_query(station_id: int):
    return (select(WeatherObservation).where(WeatherObservation.station_id == station_id)
            .order_by(WeatherObservation.observed_on.desc()))


# ---------------------------------------------------------------- import


@dataclass
class ImportReport:
    created: int = 0
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, "station date")
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    gaps: list[tuple[str, str, str]] = field(default_factory=list)  # (station, first missing, last missing)

    def as_dict(self) -> dict:
        return {"created": self.created,
                "duplicates": [{"line": n, "row": r} for n, r in self.duplicates],
                "errors": [{"line": n, "reason": r} for n, r in self.errors],
                "gaps": [{"station": s, "from": a, "to": b} for s, a, b in self.gaps]}


def _row_errors(row: dict, stations: dict[str, WeatherStation]) -> tuple[Optional[tuple], list[str]]:
    problems: list[str] = []
    code = (row.get("station") or "").strip()
    station = stations.get(code)
    if station is None:
        problems.append(f"station: unknown station {code!r}")
    try:
        day = date.fromisoformat((row.get("date") or "").strip())
    except ValueError:
        day = None
        problems.append("date: write the date as YYYY-MM-DD")
    errors: dict[str, list[str]] = {}
    values = {key: parse_decimal((row.get(key) or "").strip(), key, errors) for key in ("tmin", "tmax", "precipitation")}
    for key, messages in errors.items():
        problems.append(f"{key}: {'; '.join(messages)}")
    tmin, tmax, precip = values["tmin"], values["tmax"], values["precipitation"]
    for key, value in (("tmin", tmin), ("tmax", tmax)):
        if value is not None and not TEMP_RANGE[0] <= value <= TEMP_RANGE[1]:
            problems.append(f"{key}: {value} °C is outside -40..50 °C")
    if tmin is not None and tmax is not None and tmin > tmax:
        problems.append("tmax: is below tmin")
    if precip is not None and not 0 <= precip <= PRECIP_MAX:
        problems.append(f"precipitation: {precip} mm is outside 0..1000 mm")
    if problems:
        return None, problems
    q = Decimal("0.1")
    return (station, day, tmin.quantize(q), tmax.quantize(q), precip.quantize(q)), []


def import_observations(text: str, source: str = "csv") -> ImportReport:
    """Import a CSV of daily readings (station, date, tmin, tmax, precipitation; °C and mm).

    Good rows are stored; a bad row is reported with its line and reason and stored not at all;
    a day already held for the station (in the database or earlier in the file) is a duplicate,
    reported and not stored (observations are never overwritten). Missing days between a
    station's first and last day in the file are reported as gaps.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(N_("The file is not a weather CSV"),
                               {"file": [f"missing columns: {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)})"]})
    reader.fieldnames = header
    stations = {s.code: s for s in list_stations()}
    report = ImportReport()
    parsed = []
    for line, row in enumerate(reader, start=2):
        values, problems = _row_errors(row, stations)
        if problems:
            report.errors.append((line, "; ".join(problems)))
        else:
            parsed.append((line, values))
    seen: set[tuple[int, date]] = set()
    by_station: dict[int, set[date]] = {}
    for _line, (station, day, *_rest) in parsed:
        by_station.setdefault(station.id, set()).add(day)
    held: set[tuple[int, date]] = set()
    for station_id, days in by_station.items():
        held |= {(station_id, d) for d in db.session.scalars(select(WeatherObservation.observed_on).where(
            WeatherObservation.station_id == station_id, WeatherObservation.observed_on >= min(days),
            WeatherObservation.observed_on <= max(days)))}
    rows = []
    for line, (station, day, tmin, tmax, precip) in parsed:
        key = (station.id, day)
        if key in seen or key in held:
            report.duplicates.append((line, f"{station.code} {day.isoformat()}"))
            continue
        seen.add(key)
        rows.append({"station_id": station.id, "observed_on": day, "tmin": tmin, "tmax": tmax, "precip_mm": precip,
                     "source": source[:64]})
    if rows:
        db.session.execute(WeatherObservation.__table__.insert(), rows)
    report.created = len(rows)
    codes = {s.id: s.code for s in stations.values()}
    for station_id, days in sorted(by_station.items()):
        report.gaps.extend((codes[station_id], a.isoformat(), b.isoformat()) for a, b in _gaps(days | {
            d for s, d in held if s == station_id}))
    record_audit("insurance.weather.import", "ins_station", ",".join(sorted(codes[s] for s in by_station)) or "-",
                 after={"source": source, "created": report.created, "duplicates": len(report.duplicates),
                        "errors": len(report.errors), "gaps": len(report.gaps)})
    return report


def _gaps(days: Iterable[date]) -> list[tuple[date, date]]:
    ordered = sorted(set(days))
    out = []
    for a, b in zip(ordered, ordered[1:]):
        if (b - a).days > 1:
            out.append((a + timedelta(days=1), b - timedelta(days=1)))
    return out


# ---------------------------------------------------------------- parcels and stations


def link_parcels(parcel_ids: Optional[Iterable[int]] = None) -> dict[str, int]:
    """Link each parcel (or the named ones) to its nearest station; parcels beyond
    ``rules.MAX_STATION_KM`` of every station stay unlinked. Returns counts."""
    stations = [(s.code, s.lat, s.lon) for s in list_stations()]
    by_code = {s.code: s for s in list_stations()}
    stmt = select(Parcel)
    if parcel_ids is not None:
        stmt = stmt.where(Parcel.id.in_(list(parcel_ids)))
    counts = {"linked": 0, "changed": 0, "unlinked": 0}
    existing = {link.parcel_id: link for link in db.session.scalars(select(ParcelStation))}
    for parcel in db.session.scalars(stmt):
        found = rules.nearest_station(parcel.lat, parcel.lon, stations)
        if found is None:
            counts["unlinked"] += 1
            continue
        code, km = found
        link = existing.get(parcel.id)
        if link is None:
            db.session.add(ParcelStation(parcel_id=parcel.id, station_id=by_code[code].id, distance_km=km))
            counts["linked"] += 1
        elif link.station_id != by_code[code].id or link.distance_km != km:
            before = {"station_id": link.station_id, "distance_km": link.distance_km}
            link.station_id, link.distance_km = by_code[code].id, km
            record_audit("insurance.parcel_station.change", "parcel", parcel.id, before=before,
                         after={"station_id": link.station_id, "distance_km": km}, party_id=parcel.holder_id)
            counts["changed"] += 1
    db.session.flush()
    record_audit("insurance.parcel_station.link", "ins_station", "-", after=counts)
    return counts


def parcel_station(parcel_id: int) -> Optional[ParcelStation]:
    link = db.session.get(ParcelStation, parcel_id)
    if link is None:
        link_parcels([parcel_id])
        link = db.session.get(ParcelStation, parcel_id)
    return link
