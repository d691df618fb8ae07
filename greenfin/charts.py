"""Charts: one Vega-Lite definition per chart, rendered server-side by vl-convert.

A chart function (``bar_chart``, ``column_chart``, ``stacked_columns``, ``stacked_bars``) builds a
Vega-Lite specification from plain data. Pages get it as inline SVG (text and shapes with presentation
attributes only: no script, no ``style``, so the strict CSP holds) in two widths, a wide one and a phone
one, of which CSS shows the one that fits its container at its own size, so labels keep their
font size. PDFs get the same specification as a PNG (``pdf_image``). Numbers carry thousands separators
(money through ``format_money``, the one money formatter the ``money`` Jinja filter also uses); an empty
or all-zero series gives a sentence instead of a blank box; labels are wrapped, never truncated.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from io import BytesIO
from itertools import count
from typing import Any, Iterable, Sequence

from markupsafe import Markup, escape

WIDE = 600      # px: the desktop variant (shown when its container is at least this wide)
NARROW = 300    # px: the phone variant (fits a 390 px screen inside a card)
FONT_SIZE = 12  # px: every label, value and legend entry
FONT = "Noto Sans CJK SC"
PALETTE = {"": "#1f7a4d", "green": "#2e9e62", "blue": "#2563eb", "yellow": "#c99a06", "red": "#c0392b",
           "provisioning": "#c99a06", "regulating": "#2e9e62", "cultural": "#2563eb", "muted": "#98a2b3"}
SERIES = ["#1f7a4d", "#2563eb", "#c99a06", "#c0392b", "#7c3aed", "#0e7490"]
_ids = count(1)
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- numbers

def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_money(value: Any, digits: int = 2, per: int = 1) -> str:
    """``19956.5`` -> ``19,956.50``: exact (Decimal), rounded half up, thousands separators; ``per``
    divides first (10000 for figures shown in 10,000 CNY). None shows as a dash."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    if per != 1:
        amount = amount / per
    quantum = Decimal(1).scaleb(-digits)
    return f"{amount.quantize(quantum, rounding=ROUND_HALF_UP):,.{digits}f}"


def format_number(value: Any, digits: int = 0, unit: str = "") -> str:
    """A chart's value label: separators, ``digits`` decimals, then the unit (``%``)."""
    return format_money(value, digits) + unit


# ---------------------------------------------------------------- labels

def _text_width(text: str, size: int = FONT_SIZE) -> float:
    """An estimate of a label's width in px: CJK characters one em, others a little over half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.58 for ch in text)


def wrap_label(text: Any, max_px: float, size: int = FONT_SIZE) -> list[str]:
    """Lines of at most ``max_px`` (words kept whole where they fit; CJK text breaks anywhere)."""
    text = " ".join(str(text).split())
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+|\s+", text):
        if token.isspace():
            token = " "
            if not line:
                continue
        candidate = line + token
        if _text_width(candidate, size) <= max_px or not line:
            line = candidate
        else:
            lines.append(line.rstrip())
            line = "" if token == " " else token
        while _text_width(line, size) > max_px and len(line) > 1:  # one word wider than the column
            cut = len(line)
            while cut > 1 and _text_width(line[:cut], size) > max_px:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _unique_labels(labels: Sequence[str]) -> list[str]:
    """Two categories that read the same still get two bars (a zero-width space tells them apart)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label + "\u200b" * n)
    return out


# ---------------------------------------------------------------- specifications

def _base(width: int) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "background": None,
        "padding": {"left": 4, "right": 8, "top": 12, "bottom": 4},
        "config": {
            "font": FONT, "aria": False, "view": {"stroke": None},
            "axis": {"labelFontSize": FONT_SIZE, "titleFontSize": FONT_SIZE, "labelColor": "#1d2430",
                     "domainColor": "#98a2b3", "tickColor": "#98a2b3", "gridColor": "#eef0f3"},
            "legend": {"labelFontSize": FONT_SIZE, "symbolSize": 120, "symbolType": "square",
                       "labelOffset": 6, "columnPadding": 14, "rowPadding": 6, "orient": "bottom",
                       "direction": "horizontal", "title": None, "labelLimit": 0},
            "text": {"fontSize": FONT_SIZE, "fill": "#1d2430"},
        },
    }


def _label_axis() -> dict:
    """The category axis of horizontal bars: wrapped labels (one line per newline), never truncated."""
    return {"field": "label", "type": "nominal", "sort": None, "title": None,
            "axis": {"labelExpr": "split(datum.label, '\\n')", "labelLimit": 0, "ticks": False, "domain": False,
                     "labelPadding": 6}}


def _row_step(labels: Sequence[str]) -> dict:
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    return {"step": max(26, lines * 15 + 10)}


def _value_scale(top: float, texts: Sequence[str], width: int, label_px: float) -> dict:
    """A value scale leaving room after the longest bar for the longest value label."""
    plot_px = max(60.0, width - label_px - 16)
    text_px = max((_text_width(t) for t in texts), default=0) + 8
    return {"domain": [0, (top or 1) * plot_px / max(20.0, plot_px - text_px)], "nice": False}


def bar_spec(bars: Sequence[Sequence[Any]], *, width: int = WIDE, unit: str = "", digits: int | None = None) -> dict:
    """Horizontal bars, one per ``(label, value[, colour class])``; the label wrapped on the left,
    the value with separators at the end of its bar."""
    digits = (1 if unit == "%" else 0) if digits is None else digits
    label_px = min(220, max(80, width * 0.42))
    labels = _unique_labels(["\n".join(wrap_label(b[0], label_px)) for b in bars])
    values = [float(_decimal(b[1]) or 0) for b in bars]  # drawing positions only; the text is exact
    texts = [format_number(b[1], digits, unit) for b in bars]
    rows = [{"label": label, "value": value, "at": max(value, 0.0), "text": text,
             "colour": PALETTE.get(b[2] if len(b) > 2 else "", PALETTE[""])}
            for label, value, text, b in zip(labels, values, texts, bars)]
    scale = _value_scale(max(values, default=0), texts, width, label_px)
    low = min(values, default=0)
    if low < 0:  # a signed quantity (a change): bars left of zero, every value written right of the axis
        scale["domain"][0] = low * 1.05
    spec = _base(width)
    spec.update({
        "height": _row_step(labels),
        "data": {"values": rows},
        "encoding": {
            "y": _label_axis(),
            "x": {"field": "value", "type": "quantitative", "axis": None, "scale": scale},
        },
        "layer": [
            {"mark": {"type": "bar", "height": {"band": 0.72}},
             "encoding": {"color": {"field": "colour", "type": "nominal", "scale": None, "legend": None}}},
            {"mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4},
             "encoding": {"text": {"field": "text"}, "x": {"field": "at", "type": "quantitative"}}},
        ],
    })
    return spec


def column_spec(columns: Sequence[Sequence[Any]], *, width: int = WIDE, height: int = 160, unit: str = "",
                digits: int | None = None) -> dict:
    """Vertical columns over an ordered axis (months, days); values on top when they fit."""
    digits = (1 if unit == "%" else 0) if digits is None else digits
    rows = [{"label": str(c[0]), "value": float(_decimal(c[1]) or 0), "text": format_number(c[1], digits, unit)}
            for c in columns]
    plot_px = width - 60
    fits = rows and max(_text_width(r["text"]) for r in rows) + 4 <= plot_px / len(rows)
    spec = _base(width)
    layer: list[dict] = [{"mark": {"type": "bar", "color": PALETTE[""], "width": {"band": 0.8}}}]
    if fits:
        layer.append({"mark": {"type": "text", "baseline": "bottom", "dy": -3}, "transform": [{"filter": "datum.value != 0"}],
                      "encoding": {"text": {"field": "text"}}})
    spec.update({
        "height": height,
        "data": {"values": rows},
        "encoding": {
            "x": {"field": "label", "type": "ordinal", "sort": None, "title": None,
                  "axis": {"labelAngle": 0, "labelOverlap": "parity", "labelSeparation": 8, "ticks": False, "labelFlush": True}},
            "y": {"field": "value", "type": "quantitative", "title": None,
                  "axis": {"format": ",~f", "tickCount": 4} | ({"labelExpr": f"datum.label + '{unit}'"} if unit else {})},
        },
        "layer": layer,
    })
    return spec


def stacked_spec(rows: Sequence[tuple[Any, Sequence[Any]]], series: Sequence[tuple[str, str]], *, width: int = WIDE,
                 horizontal: bool = False, height: int = 160) -> dict:
    """Stacked bars: ``rows`` = ``[(label, [v1, v2, ...])]``, ``series`` = ``[(name, colour class or '')]``.
    Horizontal: one bar per row (label on the left, total at the end); else columns over time."""
    names = [s[0] for s in series]
    colours = [PALETTE.get(s[1]) if s[1] else SERIES[i % len(SERIES)] for i, s in enumerate(series)]
    label_px = min(200, max(80, width * 0.3))
    labels = _unique_labels(["\n".join(wrap_label(r[0], label_px)) if horizontal else str(r[0]) for r in rows])
    data = [{"label": label, "series": name, "order": i, "value": float(_decimal(v) or 0)}
            for label, r in zip(labels, rows) for i, (name, v) in enumerate(zip(names, r[1]))]
    colour = {"field": "series", "type": "nominal", "sort": names,
              "scale": {"domain": names, "range": colours}, "legend": {"columns": 2 if width < 400 else 4}}
    spec = _base(width)
    if horizontal:
        totals = [{"label": label, "text": format_number(sum((_decimal(v) or 0) for v in r[1])),
                   "total": sum(float(_decimal(v) or 0) for v in r[1])} for label, r in zip(labels, rows)]
        scale = _value_scale(max((t["total"] for t in totals), default=0), [t["text"] for t in totals], width, label_px)
        y = _label_axis()
        spec.update({
            "height": _row_step(labels),
            "layer": [
                {"data": {"values": data}, "mark": {"type": "bar", "height": {"band": 0.72}},
                 "encoding": {"y": y, "x": {"field": "value", "type": "quantitative", "stack": "zero", "axis": None,
                                            "scale": scale},
                              "color": colour, "order": {"field": "order"}}},
                {"data": {"values": totals},
                 "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4},
                 "encoding": {"y": y, "x": {"field": "total", "type": "quantitative"}, "text": {"field": "text"}}},
            ],
            "resolve": {"scale": {"x": "shared"}},
        })
    else:
        spec.update({
            "height": height,
            "data": {"values": data},
            "mark": {"type": "bar", "width": {"band": 0.8}},
            "encoding": {
                "x": {"field": "label", "type": "ordinal", "sort": None, "title": None,
                      "axis": {"labelAngle": 0, "labelOverlap": "parity", "labelSeparation": 8, "ticks": False, "labelFlush": True}},
                "y": {"field": "value", "type": "quantitative", "title": None, "stack": "zero",
                      "axis": {"format": ",~f", "tickCount": 4}},
                "color": colour, "order": {"field": "order"},
            },
        })
    return spec


# ---------------------------------------------------------------- rendering

SHARED_TTL = 30 * 86400  # seconds a drawn chart stays in Redis


@lru_cache(maxsize=512)
def _svg(spec_json: str) -> str:
    key = f"greenfin:chart:{hashlib.sha256(spec_json.encode()).hexdigest()}"
    redis = _shared_cache()
    if redis is not None:
        try:
            hit = redis.get(key)
            if hit is not None:
                return hit.decode()
        except Exception as exc:  # a cache that does not answer only costs the layout
            log.warning("chart cache unavailable: %s", exc.__class__.__name__)
            redis = None
    import vl_convert

    svg = vl_convert.vegalite_to_svg(json.loads(spec_json))
    if redis is not None:
        try:
            redis.set(key, svg.encode(), ex=SHARED_TTL)
        except Exception as exc:
            log.warning("chart cache unavailable: %s", exc.__class__.__name__)
    return svg


def _shared_cache():
    """Redis when the app has one: a chart laid out by one process serves every other one."""
    from flask import current_app, has_app_context

    if not has_app_context() or not current_app.config.get("REDIS_URL"):
        return None
    from greenfin.jobs import redis_connection

    return redis_connection()


def warm_up() -> None:
    """Start vl-convert's JavaScript runtime now (2-3 s the first time in a process) rather than on the
    first page that draws a chart; gunicorn.conf.py calls it in each worker before it takes requests."""
    import vl_convert

    vl_convert.vegalite_to_svg({"mark": "bar", "data": {"values": [{"v": 1}]},
                                "encoding": {"x": {"field": "v", "type": "quantitative"}}})


def render_svg(spec: dict) -> str:
    """The chart as an SVG document, cached by its specification: in this process (512 charts), and
    in Redis for 30 days when there is one (a published report's charts are laid out once)."""
    return _svg(json.dumps(spec, sort_keys=True, ensure_ascii=False))


def render_png(spec: dict, scale: float = 2) -> bytes:
    """The chart as PNG, rasterised from its (cached) SVG: a PDF of a page just seen costs no new layout."""
    import vl_convert

    return vl_convert.svg_to_png(render_svg(spec), scale=scale)


def pdf_image(spec: dict, width_pt: float):
    """The chart as a reportlab flowable ``width_pt`` wide, from the same specification as the page."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    png = render_png(spec, scale=3)
    px_w, px_h = ImageReader(BytesIO(png)).getSize()
    return Image(BytesIO(png), width=width_pt, height=width_pt * px_h / px_w)


def _inline(svg: str, title: str) -> str:
    """An SVG document made fit to sit inside a page: its own ids, a label for screen readers."""
    prefix = f"c{next(_ids)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = svg.replace('class="marks"', f'class="marks" role="img" aria-label="{escape(title)}"', 1)
    return svg


def figure(build, data, title: Any = None, empty: Any = None, wide: bool = True, **options) -> Markup:
    """A page's chart: the caption, then the wide and the phone variant (CSS shows the one that fits);
    a sentence instead when there is nothing to draw. ``wide=False`` for a chart whose container is
    never 600 px wide (a card among cards): the phone rendering alone, half the layout work."""
    from flask_babel import gettext

    caption = f"<figcaption>{escape(title)}</figcaption>" if title else ""
    if not has_data(data):
        message = empty or gettext("Nothing to chart yet.")
        return Markup(f'<figure class="chart chart-empty">{caption}<p class="muted">{escape(message)}</p></figure>')
    narrow = _inline(render_svg(build(data, width=NARROW, **options)), str(title or ""))
    if wide:
        svg = _inline(render_svg(build(data, width=WIDE, **options)), str(title or ""))
        caption += f'<div class="chart-wide">{svg}</div>'
    return Markup(f'<figure class="chart">{caption}<div class="chart-narrow">{narrow}</div></figure>')


def has_data(data) -> bool:
    """Whether a series has anything to draw (an empty or all-zero one gets a sentence instead)."""
    def values(item) -> Iterable:
        value = item[1]
        return value if isinstance(value, (list, tuple)) else [value]

    return any((_decimal(v) or 0) != 0 for item in data or () for v in values(item))


class Chart:
    """One chart definition for every medium: ``kind`` (``bar``, ``column``, ``stacked_columns``,
    ``stacked_bars``) and its data; ``html(title)`` for a page, ``pdf(title, width_pt)`` for reportlab."""

    def __init__(self, kind: str, data, series=(), **options):
        self.kind, self.data, self.series, self.options = kind, list(data or ()), list(series), options

    def spec(self, width: int) -> dict:
        opts = {k: v for k, v in self.options.items() if k not in ("empty", "wide")}
        if self.kind == "bar":
            return bar_spec(self.data, width=width, **opts)
        if self.kind == "column":
            return column_spec(self.data, width=width, **opts)
        return stacked_spec(self.data, self.series, width=width, horizontal=self.kind == "stacked_bars", **opts)

    def html(self, title: Any = None) -> Markup:
        return figure(lambda data, width: self.spec(width), self.data, title, self.options.get("empty"),
                      self.options.get("wide", True))

    def pdf(self, width_pt: float):
        """A reportlab flowable, or None when there is nothing to draw."""
        return pdf_image(self.spec(WIDE), width_pt) if has_data(self.data) else None


# ---------------------------------------------------------------- Jinja globals

def _series(series) -> list[tuple[str, str]]:
    return [(str(s[0]), s[1]) if isinstance(s, (list, tuple)) else (str(s), "") for s in series]


def bar_chart(bars, title=None, unit="", empty=None, digits=None, wide=True) -> Markup:
    return Chart("bar", bars, unit=unit, digits=digits, empty=empty, wide=wide).html(title)


def column_chart(columns, title=None, height=160, unit="", empty=None, digits=None, wide=True) -> Markup:
    return Chart("column", columns, height=height, unit=unit, digits=digits, empty=empty, wide=wide).html(title)


def stacked_columns(columns, series, title=None, height=160, empty=None, wide=True) -> Markup:
    """``columns`` = ``[(label, [v1, ...])]``; ``series`` = names, or ``(name, colour class)``."""
    return Chart("stacked_columns", columns, _series(series), height=height, empty=empty, wide=wide).html(title)


def stacked_bars(rows, series, title=None, empty=None) -> Markup:
    """``rows`` = ``[(label, [v1, ...])]``; ``series`` = ``[(name, colour class)]``."""
    return Chart("stacked_bars", rows, _series(series), empty=empty).html(title)


def init_charts(app) -> None:
    app.jinja_env.globals.update(bar_chart=bar_chart, column_chart=column_chart, stacked_columns=stacked_columns,
                                 stacked_bars=stacked_bars, money=format_money)
    app.jinja_env.filters["money"] = format_money
