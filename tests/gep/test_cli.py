"""The gep CLI: import-parcels (CSV, GeoJSON, bad rows), compute (job), report (PDF), init-prices."""
import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.core.models import AuditEvent, Parcel
from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.gep import importer, services
from greenfin.gep.models import GepAccount, GepParcelAttribute, GepVersion

HEADER = "code,name,holder_uscc,township_code,village,area_ha,land_cover,lat,lon,cert_type,cert_no,k_factor,ls_factor,npp,yield_t_ha\n"


def square(lon, lat, side_deg):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + side_deg, lat], [lon + side_deg, lat + side_deg],
                                                [lon, lat + side_deg], [lon, lat]]]}


def test_import_csv_reports_bad_rows_and_keeps_good(runner, create_party, tmp_path):
    party = create_party()
    path = tmp_path / "parcels.csv"
    path.write_text(HEADER
                    + f"IMP-1,柚园一,{party.uscc},danan,古村村,12.5,orchard,28.49,118.29,land_contract,NO-1,0.03,2.1,640,31\n"
                    + f"IMP-2,坏面积,{party.uscc},danan,古村村,-3,orchard,28.49,118.29,land_contract,NO-2,,,,\n"
                    + f"IMP-3,坏K值,{party.uscc},danan,古村村,3,orchard,28.49,118.29,land_contract,NO-3,0.9,,,\n"
                    + "IMP-4,无主,91361103XXXXXXXXXX,danan,古村村,3,orchard,28.49,118.29,land_contract,NO-4,,,,\n"
                    + f"IMP-5,林地,{party.uscc},wucun,吴村村,300,forest,28.27,118.24,forest_rights,NO-5,,,,\n",
                    encoding="utf-8")
    result = runner.invoke(args=["gep", "import-parcels", str(path)])
    assert result.exit_code == 1, result.output
    assert "2 parcels created, 0 updated, 3 rows rejected" in result.output
    assert "line 3: area_ha" in result.output
    assert "line 4: k_factor" in result.output
    assert "line 5: holder" in result.output
    codes = set(db.session.scalars(select(Parcel.code).where(Parcel.code.like("IMP-%"))))
    assert codes == {"IMP-1", "IMP-5"}
    # Nothing of a bad row is stored, not even its audit event.
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "parcel.create", AuditEvent.after["code"].as_string().in_(["IMP-2", "IMP-3", "IMP-4"]))) == 0
    imp1 = db.session.scalar(select(Parcel).where(Parcel.code == "IMP-1"))
    attrs = db.session.get(GepParcelAttribute, imp1.id)
    assert attrs.yield_t_ha == Decimal("31") and attrs.k_factor == Decimal("0.03")


def test_import_csv_updates_existing_parcel(runner, create_parcel, tmp_path):
    parcel = create_parcel(code="UPD-1")
    path = tmp_path / "update.csv"
    path.write_text("code,area_ha,npp\nUPD-1,7.25,810\n", encoding="utf-8")
    result = runner.invoke(args=["gep", "import-parcels", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 parcels created, 1 updated" in result.output
    db.session.expire_all()
    assert db.session.get(Parcel, parcel.id).area_ha == Decimal("7.25")
    assert db.session.get(GepParcelAttribute, parcel.id).npp == Decimal("810")


def test_import_geojson_area_on_ellipsoid(runner, create_party, tmp_path):
    party = create_party()
    props = {"holder_uscc": party.uscc, "township_code": "danan", "village": "古村村", "land_cover": "forest",
             "cert_type": "forest_rights", "cert_no": "林-1"}
    features = [
        {"type": "Feature", "properties": props | {"code": "GEO-1"}, "geometry": square(118.28, 28.48, 0.01)},
        {"type": "Feature", "properties": props | {"code": "GEO-2"}, "geometry": {"type": "Point", "coordinates": [118.2, 28.4]}},
        {"type": "Feature", "properties": props | {"code": "GEO-3", "area_ha": 50},
         "geometry": square(118.30, 28.48, 0.01)},
        {"type": "Feature", "properties": props | {"code": "GEO-4"},
         "geometry": {"type": "Polygon", "coordinates": [[[118.28, 28.48], [118.29, 28.48], [118.29, 28.49]]]}},
    ]
    path = tmp_path / "parcels.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = runner.invoke(args=["gep", "import-parcels", str(path)])
    assert result.exit_code == 1
    assert "feature 2: geometry: geometry must be a Polygon" in result.output
    assert "feature 3: area_ha: declared 50 ha differs" in result.output
    assert "feature 4: geometry" in result.output
    parcel = db.session.scalar(select(Parcel).where(Parcel.code == "GEO-1"))
    # 0.01° × 0.01° at 28.48° N: 1,109 m (lat) × 979 m (lon) ≈ 108.6 ha on the WGS84 ellipsoid.
    assert Decimal("108.0") < parcel.area_ha < Decimal("109.2")
    assert abs(parcel.lat - Decimal("28.485")) < Decimal("0.0001")
    assert db.session.get(GepParcelAttribute, parcel.id).geometry["type"] == "Polygon"
    assert db.session.scalar(select(Parcel.id).where(Parcel.code.in_(["GEO-2", "GEO-3", "GEO-4"]))) is None


def test_polygon_area_subtracts_holes():
    outer = square(118.0, 28.4, 0.02)["coordinates"][0]
    hole = list(reversed(square(118.005, 28.405, 0.01)["coordinates"][0]))
    with_hole = importer.polygon_area_m2({"type": "Polygon", "coordinates": [outer, hole]})
    full = importer.polygon_area_m2({"type": "Polygon", "coordinates": [outer]})
    small = importer.polygon_area_m2(square(118.005, 28.405, 0.01))
    assert with_hole == pytest.approx(full - small)


def test_import_rejects_non_collection(runner, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    result = runner.invoke(args=["gep", "import-parcels", str(path)])
    assert result.exit_code == 2 and "FeatureCollection" in result.output


def test_compute_command_runs_job(runner, versions, gep_parcel, drain_jobs):
    parcel = gep_parcel()
    # --no-wait: with Redis the test's worker runs the job below (drain_jobs), not a separate process.
    result = runner.invoke(args=["gep", "compute", "--year", "2025", "--prices", "GF-2024", "--no-wait"])
    assert result.exit_code == 0, result.output
    drain_jobs()
    account = services.latest_account(parcel.id)
    assert account.year == 2025 and account.version.code == "GF-2024" and account.job_id
    again = runner.invoke(args=["gep", "compute", "--year", "2025", "--prices", "GF-2024", "--no-wait"])
    assert again.exit_code == 0
    drain_jobs()
    assert db.session.scalar(select(func.count(GepAccount.id)).where(GepAccount.parcel_id == parcel.id)) == 1


def test_compute_command_waits_with_timeout(runner, app, versions, gep_parcel, drain_jobs):
    gep_parcel()
    result = runner.invoke(args=["gep", "compute", "--year", "2025", "--timeout", "0"])
    assert result.exit_code == 0, result.output
    if app.config.get("REDIS_URL"):
        assert "still queued after 0 s" in result.output  # no worker outside the test: it stops following
        drain_jobs()
    else:
        assert "1 new accounts" in result.output


def test_compute_command_unknown_version(runner, versions):
    result = runner.invoke(args=["gep", "compute", "--year", "2025", "--prices", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


@pytest.mark.parametrize("args, line", [
    (["--year", "1800"], "  year: Must be greater than or equal to 1990 and less than or equal to 2100."),
    (["--year", "2101"], "  year: Must be greater than or equal to 1990 and less than or equal to 2100."),
    (["--year", "2025", "--prices", "P" * 33], "  prices: Longer than maximum length 32."),
    (["--year", "2025", "--township", "t" * 65], "  township: Longer than maximum length 64."),
])
def test_compute_command_refuses_what_the_api_refuses(runner, versions, args, line):
    """Checked before queueing: a clear message once, exit status 2, no job stored."""
    jobs = db.session.scalar(select(func.count(Job.id)))
    result = runner.invoke(args=["gep", "compute", *args, "--no-wait"])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == ["error: Invalid input", line]
    assert db.session.scalar(select(func.count(Job.id))) == jobs


def test_report_command_writes_pdf(runner, versions, gep_parcel, tmp_path):
    parcel = gep_parcel()
    services.compute_parcel_account(parcel.id, 2025, versions["GF-2025"])
    db.session.commit()
    out = tmp_path / "danan.pdf"
    result = runner.invoke(args=["gep", "report", "--township", "大南镇", "--year", "2025", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "大南镇" in text and "生态产品总值" in text and "古村村" in text
        total = services.district_total(2025, township="danan")["total"]
        assert f"{total / 10000:,.1f}" in text
    missing = runner.invoke(args=["gep", "report", "--township", "danan", "--year", "1999", "--out", str(out)])
    assert missing.exit_code == 2 and "no GEP accounts" in missing.output


def test_init_prices_is_idempotent(runner):
    assert runner.invoke(args=["gep", "init-prices"]).exit_code == 0
    assert runner.invoke(args=["gep", "init-prices"]).exit_code == 0
    assert sorted(db.session.scalars(select(GepVersion.code))) == ["GF-2024", "GF-2025"]
