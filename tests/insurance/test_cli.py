"""``flask insurance ...``: import-weather (exit 1 on bad rows, good rows kept), evaluate, backtest."""
from __future__ import annotations

from datetime import date

from greenfin.extensions import db
from greenfin.insurance import services, synthetic
from tests.insurance.conftest import import_season


def test_import_weather_keeps_good_rows_and_exits_1_on_bad_rows(runner, create_station, tmp_path):
    station = create_station(code="T-CLI")
    path = tmp_path / "w.csv"
    path.write_text(f"station,date,tmin,tmax,precipitation\n{station.code},2025-01-01,1,8,0\n"
                    f"{station.code},2025-01-03,1,8,-4\n", encoding="utf-8")
    result = runner.invoke(args=["insurance", "import-weather", str(path)])
    assert result.exit_code == 1
    assert "line 3: precipitation" in result.output and "1 readings imported" in result.output
    assert services.observation_span(station.id)[2] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = runner.invoke(args=["insurance", "import-weather", str(bad)])
    assert refused.exit_code != 0 and "missing columns" in refused.output


def test_evaluate_and_backtest_commands(runner, frost_setup):
    station, product, _parcels, _policies = frost_setup
    import_season(station, {date(2025, 12, 20): -3.5})
    result = runner.invoke(args=["insurance", "evaluate", "--date", "2025-12-23"])
    assert result.exit_code == 0 and "2 claims created" in result.output
    assert "0 claims created" in runner.invoke(args=["insurance", "evaluate", "--date", "2025-12-23"]).output
    assert runner.invoke(args=["insurance", "evaluate", "--date", "23/12/2025"]).exit_code == 2
    short = runner.invoke(args=["insurance", "backtest", "--product", product.code, "--station", station.code])
    assert short.exit_code != 0 and "at least 20 are needed" in short.output
    rows = synthetic.series(station.code, date(1995, 1, 1), date(2025, 11, 30), seed=5, offset=-2)
    services.import_observations(synthetic.to_csv(rows))
    db.session.commit()
    long = runner.invoke(args=["insurance", "backtest", "--product", product.code, "--station", station.code])
    assert long.exit_code == 0, long.output
    assert "seasons 31, payout frequency" in long.output  # 1995/96 to 2025/26 (imported above) and "premium = expected loss x loading 1.500" in long.output
    assert runner.invoke(args=["insurance", "backtest", "--product", "NOPE", "--station", station.code]).exit_code == 2
