"""credit/policy.py: the colour scale and the thresholds, as configured."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credit import policy


def test_parse_thresholds_overrides_named_kinds_only():
    table = policy.parse_thresholds('{"firm": [40, 5, -20]}')
    assert table["firm"] == (40, 5, -20) and table["individual"] == policy.THRESHOLDS["individual"]
    assert policy.parse_thresholds(None) == policy.THRESHOLDS


@pytest.mark.parametrize("raw, names", [
    ("{firm", "not JSON"),
    ('[30, 0, -30]', "must map"),
    ('{"company": [1, 0, -1]}', "unknown party kind 'company'"),
    ('{"firm": [30, 0]}', "three whole scores"),
    ('{"firm": [30, 0.5, -30]}', "three whole scores"),
    ('{"firm": [0, 30, -30]}', "must fall"),
])
def test_parse_thresholds_names_the_fault(raw, names):
    with pytest.raises(ValueError, match=names):
        policy.parse_thresholds(raw)


def test_colour_for_reads_configured_thresholds(app, monkeypatch):
    assert policy.colour_for("firm", 35) == "green"
    monkeypatch.setitem(app.config, "CREDIT_THRESHOLDS", policy.parse_thresholds('{"firm": [40, 0, -30]}'))
    assert policy.colour_for("firm", 35) == "blue"
    assert policy.colour_for("firm", 500, veto=True) == "red"


def test_app_refuses_malformed_thresholds_at_start(tmp_path):
    """As a deployment meets it: the process stops at start-up naming the fault. (A subprocess, because
    a half-built app would leave the shared API extension with half a specification.)"""
    import os
    import subprocess
    import sys

    env = os.environ | {"CREDIT_THRESHOLDS": '{"firm": [1, 2, 3]}', "GREENFIN_INSTANCE": str(tmp_path),
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    result = subprocess.run([sys.executable, "-c", "from greenfin import create_app; create_app()"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "CREDIT_THRESHOLDS['firm'] must fall" in result.stderr


@given(kind=st.sampled_from(policy.PARTY_KINDS), a=st.integers(-1000, 1000), b=st.integers(-1000, 1000))
def test_more_points_never_earn_a_worse_colour(kind, a, b):
    low, high = sorted((a, b))
    assert policy.rank(policy.colour_for(kind, high)) <= policy.rank(policy.colour_for(kind, low))


def test_every_colour_has_a_label_and_a_printed_name(app):
    assert set(policy.COLOUR_LABELS) == set(policy.COLOUR_NAMES_ZH) == set(policy.COLOUR_RGB) == set(policy.COLOURS)
    with app.test_request_context("/?lang=zh_CN"):
        assert str(policy.colour_label(None)) == "未评级"
        assert str(policy.colour_label("green")) != "Green · trustworthy"
