"""Chart rendering cost: Vega-Lite through vl-convert (greenfin/charts.py) against the hand-made Jinja
SVG macro it replaced, on the same data in the same run.

Prints JSON:
- ``first_call_ms``: the first chart of a process (vl-convert starts its JavaScript engine);
- ``cold_ms_per_figure``: a figure (wide and phone rendering) whose specification was never drawn
  before, median over ``--charts`` distinct bar charts of ``--bars`` bars;
- ``cached_ms_per_figure``: the same figures again (the SVG cache in ``render_svg``);
- ``macro_ms_per_figure``: the old ``bar_chart`` Jinja macro (kept here verbatim as the baseline);
- ``pdf_ms_per_chart_after_page`` / ``_cold``: the PNG for a PDF (scale 3), rasterised from the
  cached SVG of a page just shown, or laid out first;
- ``shared_cache_ms_per_figure`` (with ``--redis``): a figure another process laid out, read from Redis;
- ``load_average``: the machine's, as the run ends (the layout is CPU-bound);
- ratios of each to the macro.

    .venv/bin/python bench/charts.py [--charts 40] [--bars 8]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jinja2 import Environment  # noqa: E402

from greenfin import charts  # noqa: E402

# The macro of templates/_macros.html before issue 16, unchanged.
OLD_MACRO = """
{% macro bar_chart(bars, title=None, unit="", width=560) %}
  {% set maxv = (bars | map(attribute=1) | max) if bars else 0 %}
  {% set row = 26 %}
  <figure class="chart">
    {% if title %}<figcaption>{{ title }}</figcaption>{% endif %}
    <svg viewBox="0 0 {{ width }} {{ (bars|length) * row + 6 }}" width="100%" role="img" aria-label="{{ title or '' }}">
      {% for b in bars %}
        {% set w = ((b[1] / maxv) * (width - 220)) if maxv else 0 %}
        <text x="0" y="{{ loop.index0 * row + 17 }}" class="chart-label">{{ b[0] }}</text>
        <rect x="130" y="{{ loop.index0 * row + 4 }}" width="{{ '%.1f' % w }}" height="18" class="bar {{ b[2] if b|length > 2 else '' }}"></rect>
        <text x="{{ '%.1f' % (136 + w) }}" y="{{ loop.index0 * row + 17 }}" class="chart-value">{{ b[1] }}{{ unit }}</text>
      {% endfor %}
    </svg>
  </figure>
{% endmacro %}
{{ bar_chart(bars, title) }}
"""


def data(i: int, n: int) -> list[tuple]:
    return [(f"类别 {i}-{j} category", 1000 * (i + 1) + 137 * j, "green" if j % 2 else "") for j in range(n)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charts", type=int, default=40)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--redis", help="a Redis URL: also time figures another process laid out (shared cache)")
    args = parser.parse_args()
    template = Environment(autoescape=True).from_string(OLD_MACRO)
    # A chart with data needs no app (only an empty one asks gettext for its sentence).
    first = timed(lambda: charts.bar_chart(data(-1, args.bars), title="warm-up"))
    cold = [timed(lambda i=i: charts.bar_chart(data(i, args.bars), title="t")) for i in range(args.charts)]
    cached = [timed(lambda i=i: charts.bar_chart(data(i, args.bars), title="t")) for i in range(args.charts)]
    macro = [timed(lambda i=i: template.render(bars=data(i, args.bars), title="t")) for i in range(args.charts)]
    # A PDF of a page just shown: its charts' SVG is cached, the PNG is rasterised from it.
    pdf = [timed(lambda i=i: charts.Chart("bar", data(i, args.bars)).pdf(480)) for i in range(min(10, args.charts))]
    pdf_cold = [timed(lambda i=i: charts.Chart("bar", data(1000 + i, args.bars)).pdf(480))
                for i in range(min(10, args.charts))]
    series = {"cold": cold, "cached": cached, "macro": macro, "pdf": pdf, "pdf_cold": pdf_cold}
    if args.redis:
        from flask import Flask

        app = Flask("bench")
        app.config["REDIS_URL"] = args.redis
        with app.app_context():
            for i in range(args.charts):  # laid out by "another process" into Redis
                charts.bar_chart(data(2000 + i, args.bars), title="t")
            charts._svg.cache_clear()  # this process has not seen them
            series["shared"] = [timed(lambda i=i: charts.bar_chart(data(2000 + i, args.bars), title="t"))
                                for i in range(args.charts)]
    med = {k: statistics.median(v) for k, v in series.items()}
    print(json.dumps({
        "charts": args.charts, "bars": args.bars,
        "first_call_ms": round(first, 1),
        "cold_ms_per_figure": round(med["cold"], 2),
        "cached_ms_per_figure": round(med["cached"], 3),
        "macro_ms_per_figure": round(med["macro"], 3),
        "pdf_ms_per_chart_after_page": round(med["pdf"], 1),
        "pdf_ms_per_chart_cold": round(med["pdf_cold"], 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cold_vs_macro": round(med["cold"] / med["macro"], 1),
        "cached_vs_macro": round(med["cached"] / med["macro"], 2),
    } | ({"shared_cache_ms_per_figure": round(med["shared"], 2),
          "shared_vs_macro": round(med["shared"] / med["macro"], 1)} if "shared" in med else {}), indent=2))


if __name__ == "__main__":
    main()
