"""gunicorn workers start the chart engine before they take requests (gunicorn.conf.py)."""
import importlib.util
import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Worker:
    log = logging.getLogger("gunicorn.error")


def test_each_worker_starts_the_chart_engine_before_taking_requests(monkeypatch):
    from greenfin import charts

    started = []
    monkeypatch.setattr(charts, "warm_up", lambda: started.append(True))
    _gunicorn_conf().post_worker_init(_Worker())
    assert started == [True]


def test_a_worker_whose_chart_engine_fails_still_starts(monkeypatch, caplog):
    from greenfin import charts

    def broken():
        raise RuntimeError("no engine")

    monkeypatch.setattr(charts, "warm_up", broken)
    with caplog.at_level(logging.WARNING, logger="gunicorn.error"):
        _gunicorn_conf().post_worker_init(_Worker())
    assert "chart engine not started: RuntimeError" in caplog.text


def test_warm_up_draws_with_the_real_engine():
    pytest.importorskip("vl_convert")
    from greenfin import charts

    charts.warm_up()  # raises if vl-convert cannot lay out a chart in this process
