"""Bulk import of parcels and their GEP attributes from CSV or GeoJSON.

Each row (CSV line or GeoJSON feature) is stored in its own savepoint: a bad row
is reported with its line and reason and leaves nothing behind, good rows are kept.
Parcels go through ``greenfin.core.services.create_parcel`` / ``update_parcel``
(matched by ``code``). With a polygon, the area is computed on the WGS84 ellipsoid
(pyproj's ``Geod``) and the centroid is taken when no lat/lon is given.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator, Optional

from pyproj import Geod
from sqlalchemy import select

from greenfin.core import services as core
from greenfin.core.models import Parcel, Party
from greenfin.numbers import to_decimal
from greenfin.errors import DomainError, ValidationFailed
from greenfin.extensions import db
from greenfin.gep import services

GEOD = Geod(ellps="WGS84")
PARCEL_COLUMNS = ("code", "name", "township_code", "village", "area_ha", "land_cover", "lat", "lon", "cert_type",
                  "cert_no")
ATTRIBUTE_COLUMNS = services.ATTRIBUTE_FIELDS
AREA_TOLERANCE = Decimal("0.10")  # a declared area may differ from the polygon's by at most 10 %


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


def _rings(geometry: dict) -> list[list[list[list[float]]]]:
    """The polygons of a Polygon or MultiPolygon geometry as lists of rings."""
    if not isinstance(geometry, dict):
        raise ValueError("geometry must be a GeoJSON object")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        raise ValueError(f"geometry must be a Polygon or MultiPolygon, not {kind}")
    if not isinstance(polygons, list) or not polygons:
        raise ValueError("geometry has no coordinates")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError("a polygon has no rings")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValueError("a ring needs at least 4 positions")
            for pos in ring:
                if (not isinstance(pos, (list, tuple)) or len(pos) < 2
                        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos[:2])):
                    raise ValueError("positions must be [longitude, latitude] numbers")
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise ValueError("a ring must be closed (first position = last)")
    return polygons


def polygon_area_m2(geometry: dict) -> float:
    """Area on the WGS84 ellipsoid in m²: outer rings minus holes."""
    total = 0.0
    for polygon in _rings(geometry):
        for index, ring in enumerate(polygon):
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            area, _perimeter = GEOD.polygon_area_perimeter(lons, lats)
            total += abs(area) if index == 0 else -abs(area)
    if total <= 0:
        raise ValueError("the polygon has no area")
    return total


def polygon_centroid(geometry: dict) -> tuple[float, float]:
    """(lat, lon): the area-weighted centroid of the outer rings (planar; parcels are small)."""
    sx = sy = sa = 0.0
    for polygon in _rings(geometry):
        ring = polygon[0]
        for (x0, y0), (x1, y1) in zip((p[:2] for p in ring[:-1]), (p[:2] for p in ring[1:])):
            cross = x0 * y1 - x1 * y0
            sa += cross
            sx += (x0 + x1) * cross
            sy += (y0 + y1) * cross
    if sa == 0:
        raise ValueError("the polygon has no area")
    return sy / (3 * sa), sx / (3 * sa)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _holder_id(row: dict) -> Optional[int]:
    if row.get("holder_uscc"):
        return db.session.scalar(select(Party.id).where(Party.uscc == str(row["holder_uscc"]).strip().upper()))
    if row.get("holder_id") is not None:
        try:
            return int(row["holder_id"])
        except (TypeError, ValueError):
            raise ValidationFailed.field("holder_id", "must be a whole number") from None
    return None


def import_row(row: dict, geometry: Optional[dict] = None) -> str:
    """Create or update one parcel and its attributes; returns "created" or "updated"."""
    row = {k: _clean(v) for k, v in row.items() if k}
    data = {k: row.get(k) for k in PARCEL_COLUMNS if row.get(k) is not None}
    attrs: dict[str, Any] = {k: row[k] for k in ATTRIBUTE_COLUMNS if row.get(k) is not None}
    if geometry is not None:
        try:
            area_m2 = polygon_area_m2(geometry)
            lat, lon = polygon_centroid(geometry)
        except ValueError as exc:
            raise ValidationFailed.field("geometry", str(exc)) from None
        area_ha = (Decimal(repr(area_m2)) / 10000).quantize(Decimal("0.0001"))
        if "area_ha" in data:
            declared = to_decimal(data["area_ha"])
            if declared is None:
                raise ValidationFailed.field("area_ha", "must be a number")
            if area_ha > 0 and abs(declared - area_ha) / area_ha > AREA_TOLERANCE:
                raise ValidationFailed.field(
                    "area_ha", f"declared {declared} ha differs from the polygon's {area_ha} ha by more than 10%")
        data["area_ha"] = area_ha
        data.setdefault("lat", Decimal(repr(lat)).quantize(Decimal("0.000001")))
        data.setdefault("lon", Decimal(repr(lon)).quantize(Decimal("0.000001")))
        attrs["geometry"] = geometry
        attrs["area_m2_ellipsoid"] = Decimal(repr(area_m2)).quantize(Decimal("0.01"))
    services.validate_attributes(attrs)  # fail before touching the parcel
    holder_id = _holder_id(row)
    # Codes are unique per holder: with a holder, its parcel; without, the one parcel with this code.
    same_code = select(Parcel).where(Parcel.code == (data.get("code") or ""))
    matches = list(db.session.scalars(same_code.where(Parcel.holder_id == holder_id) if holder_id else same_code.limit(2)))
    if len(matches) > 1:
        raise ValidationFailed.field("holder", "several holders use this parcel code: give holder_uscc or holder_id")
    existing = matches[0] if matches else None
    if existing is None:
        if holder_id is None:
            raise ValidationFailed.field("holder", "holder_uscc or holder_id is required for a new parcel")
        parcel = core.create_parcel(data | {"holder_id": holder_id})
        outcome = "created"
    else:
        if holder_id is not None:
            data["holder_id"] = holder_id
        parcel = core.update_parcel(existing, data)
        outcome = "updated"
    if attrs:
        services.set_attributes(parcel, attrs)
    return outcome


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return "; ".join(f"{f}: {', '.join(m)}" for f, m in exc.errors.items())
    return getattr(exc, "message", None) or str(exc)


def _csv_rows(text: str) -> Iterator[tuple[str, dict, None]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "code" not in [f.strip() for f in reader.fieldnames]:
        raise ValidationFailed.field("file", "the CSV needs a header row with at least a 'code' column")
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    for row in reader:
        if None in row:
            yield f"line {reader.line_num}", {"__error__": "more values than header columns"}, None
            continue
        yield f"line {reader.line_num}", row, None


def _geojson_rows(text: str) -> Iterator[tuple[str, dict, Optional[dict]]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed.field("file", f"not valid JSON: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ValidationFailed.field("file", "a GeoJSON FeatureCollection is expected")
    for index, feature in enumerate(doc["features"], start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            yield f"feature {index}", {"__error__": "a Feature with properties is expected"}, None
            continue
        props = {k: (str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                 for k, v in feature["properties"].items()}
        geometry = feature.get("geometry")
        yield f"feature {index}", props, geometry if geometry is not None else None


def import_parcels(text: str, fmt: str) -> ImportReport:
    """Import ``text`` (``fmt`` "csv" or "geojson"); good rows are flushed, bad ones reported."""
    report = ImportReport()
    rows = _geojson_rows(text) if fmt == "geojson" else _csv_rows(text)
    for where, row, geometry in rows:
        if "__error__" in row:
            report.errors.append((where, row["__error__"]))
            continue
        savepoint = db.session.begin_nested()
        try:
            outcome = import_row(row, geometry)
            savepoint.commit()
        except (DomainError, ValueError, TypeError) as exc:
            savepoint.rollback()
            report.errors.append((where, _describe(exc)))
            continue
        if outcome == "created":
            report.created += 1
        else:
            report.updated += 1
    return report


def detect_format(filename: str, text: str) -> str:
    if filename.lower().endswith((".geojson", ".json")) or text.lstrip().startswith("{"):
        return "geojson"
    return "csv"
