"""The eco-credit rating policy: the four colours, their names, and the thresholds between them.

The one home of these rules. Pure: no database, no request. Other packages that show or weigh a
colour (lending's price, pools' eligibility, the pages) read the scale from here, which is part of
credit's published contract beside ``credit.services``.

Thresholds are the lowest score for green, blue and yellow per party kind; below the last is red;
an unreversed veto posting makes the party red whatever its score. ``CREDIT_THRESHOLDS`` in the
environment overrides them as JSON, e.g. ``{"firm": [40, 0, -30]}`` (kinds not named keep theirs);
a malformed value stops the app at start-up with a message naming it.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

COLOURS = ("green", "blue", "yellow", "red")  # best to worst
PARTY_KINDS = ("firm", "organisation", "individual")

# 环保诚信 / 环保良好 / 环保警示 / 环保不良: the names the district's rules give the levels.
COLOUR_LABELS = {"green": _l("Green · trustworthy"), "blue": _l("Blue · good"),
                 "yellow": _l("Yellow · warning"), "red": _l("Red · poor")}
COLOUR_NAMES_ZH = {"green": "环保诚信", "blue": "环保良好", "yellow": "环保警示", "red": "环保不良"}
COLOUR_RGB = {"green": "#2e9e62", "blue": "#1d4ed8", "yellow": "#d4a200", "red": "#c0392b"}

THRESHOLDS: dict[str, tuple[int, int, int]] = {
    "firm": (30, 0, -30),
    "organisation": (20, 0, -20),
    "individual": (10, 0, -15),
}


def parse_thresholds(raw: Any) -> dict[str, tuple[int, int, int]]:
    """The thresholds with an override applied (JSON text or a mapping); ValueError names the fault."""
    if raw in (None, "", {}):
        return dict(THRESHOLDS)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"CREDIT_THRESHOLDS is not JSON: {exc.msg}") from None
    if not isinstance(raw, Mapping):
        raise ValueError("CREDIT_THRESHOLDS must map a party kind to three scores")
    merged = dict(THRESHOLDS)
    for kind, floors in raw.items():
        if kind not in PARTY_KINDS:
            raise ValueError(f"CREDIT_THRESHOLDS: unknown party kind {kind!r} (firm, organisation, individual)")
        if (not isinstance(floors, (list, tuple)) or len(floors) != 3
                or not all(isinstance(f, int) and not isinstance(f, bool) for f in floors)):
            raise ValueError(f"CREDIT_THRESHOLDS[{kind!r}] must be three whole scores (green, blue, yellow)")
        if not floors[0] > floors[1] > floors[2]:
            raise ValueError(f"CREDIT_THRESHOLDS[{kind!r}] must fall from green to yellow")
        merged[kind] = tuple(floors)
    return merged


def thresholds(kind: str) -> tuple[int, int, int]:
    """The lowest scores for green, blue and yellow of a party kind, as configured."""
    table = (current_app.config.get("CREDIT_THRESHOLDS") if has_app_context() else None) or THRESHOLDS
    return table.get(kind, table["firm"])


def colour_for(kind: str, points: int, veto: bool = False) -> str:
    """The colour a score earns a party of this kind (red for a standing veto)."""
    if veto:
        return "red"
    for colour, floor in zip(COLOURS, thresholds(kind)):
        if points >= floor:
            return colour
    return "red"


def rank(colour: Optional[str]) -> int:
    """0 for green ... 3 for red; 4 for not rated (worst), for sorting and "this colour or better"."""
    return COLOURS.index(colour) if colour in COLOURS else len(COLOURS)


def colour_label(colour: Optional[str]):
    """The translated name of a colour (``None`` is not rated)."""
    return COLOUR_LABELS.get(colour) or _l("not rated")
