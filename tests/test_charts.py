"""Charts (greenfin/charts.py) and the money filter: what the pages and the PDFs are given."""
from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin import charts
from greenfin.charts import Chart, bar_chart, column_chart, format_money, stacked_bars, stacked_columns, wrap_label
from tests.conftest import using_redis

FONT_SIZES = re.compile(r'font-size="([\d.]+)px"')


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False),
       st.integers(min_value=0, max_value=4))
def test_format_money_is_exact_with_separators(amount, digits):
    text = format_money(amount, digits)
    whole = text.lstrip("-").split(".")[0]
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", whole), text
    assert Decimal(text.replace(",", "")) == amount.quantize(Decimal(1).scaleb(-digits), rounding="ROUND_HALF_UP")


def test_format_money_reads_what_people_see():
    assert format_money(Decimal("19956")) == "19,956.00"
    assert format_money(266502, 0) == "266,502"
    assert format_money("2.675", 2) == "2.68"  # half up, not the float's 2.67
    assert format_money(Decimal("319180000"), 2, per=10000) == "31,918.00"
    assert format_money(None) == "—"


def test_money_filter_on_a_page(app):
    with app.test_request_context():
        html = app.jinja_env.from_string("{{ x|money }} {{ money(y, 0) }}").render(x=Decimal("1234567.891"), y=19956)
    assert html == "1,234,567.89 19,956"


label_text = st.text(st.sampled_from(list("abcdefgh ") + ["环", "境", "可", "持", "续"]), min_size=1, max_size=120)


@given(label_text, st.integers(min_value=40, max_value=260))
def test_wrapped_labels_keep_every_character(text, width):
    lines = wrap_label(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing cut off, no ellipsis
    assert all(charts._text_width(line) <= width or len(line) == 1 for line in lines)


def test_long_categories_stay_distinct_and_whole():
    """Two use-of-proceeds categories that start alike were once cut to the same 'environmentally…'."""
    bars = [("environmentally sustainable agriculture (green food / organic certified orchards)", 57.5),
            ("environmentally sustainable management of living natural resources and land use", 6.3),
            ("same", 1), ("same", 2)]
    for width in (charts.WIDE, charts.NARROW):
        spec = charts.bar_spec(bars, width=width, unit="%")
        labels = [row["label"] for row in spec["data"]["values"]]
        assert len(set(labels)) == 4
        assert labels[0].replace("\n", " ") == bars[0][0] and "…" not in "".join(labels)
        assert [row["text"] for row in spec["data"]["values"]] == ["57.5%", "6.3%", "1.0%", "2.0%"]


def test_values_carry_thousands_separators():
    spec = charts.bar_spec([("利息", Decimal("19956")), ("本金", Decimal("266502.04"))])
    assert [row["text"] for row in spec["data"]["values"]] == ["19,956", "266,502"]
    svg = charts.render_svg(spec)
    assert ">19,956<" in svg and ">266,502<" in svg


@pytest.mark.parametrize("html", [
    lambda: bar_chart([("a", 1), ("b", 1234567)], title="T"),
    lambda: column_chart([(f"12-{d:02d}", d) for d in range(1, 31)], title="T", unit="%"),
    lambda: stacked_columns([("2026-10", [1, 2, 3]), ("2026-11", [3000, 2, 1])], ["x", "y", "z"], title="T"),
    lambda: stacked_bars([("广丰镇", [3, 4, 0, 1])], [("绿", "green"), ("蓝", "blue"), ("黄", "yellow"), ("红", "red")]),
], ids=["bars", "columns", "stacked-columns", "stacked-bars"])
def test_figures_fit_the_strict_csp_and_keep_their_font_size(app, html):
    with app.test_request_context():
        out = str(html())
    assert out.count("<svg") == 2  # the wide and the phone rendering
    assert 'class="chart-wide"' in out and 'class="chart-narrow"' in out
    assert "<script" not in out and "style=" not in out and "<style" not in out and "<foreignObject" not in out
    sizes = {float(s) for s in FONT_SIZES.findall(out)}
    assert sizes and min(sizes) >= 12
    widths = [int(w) for w in re.findall(r'<svg[^>]* width="(\d+)"', out)]
    assert sorted(widths) == [charts.NARROW, charts.WIDE]
    ids = re.findall(r'\bid="([^"]+)"', out)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("data", [[], [("2026-12-01", 0)] * 30, None])
def test_nothing_to_draw_is_a_sentence(app, data):
    with app.test_request_context():
        out = str(column_chart(data, title="Scans", empty="No scans in the last 30 days."))
    assert "<svg" not in out and "No scans in the last 30 days." in out and "chart-empty" in out


def test_nothing_to_draw_has_a_default_sentence_in_chinese(app):
    with app.test_request_context("/?lang=zh_CN"):
        out = str(bar_chart([("a", 0)]))
    assert "暂无可绘制的数据" in out


def test_the_pdf_draws_the_page_definition():
    chart = Chart("bar", [("利息 Interest", Decimal("19956")), ("本金 Principal", Decimal("266502"))])
    image = chart.pdf(400)
    assert image.drawWidth == 400 and 20 < image.drawHeight < 400
    assert Chart("bar", [("a", 0)]).pdf(400) is None
    assert chart.spec(charts.WIDE) == charts.bar_spec(chart.data, width=charts.WIDE)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.text(st.sampled_from(list("abc 环境")), min_size=1, max_size=30),
                          st.decimals(min_value=0, max_value=Decimal("1e9"), places=2)), min_size=1, max_size=8))
def test_bar_values_fit_inside_the_chart(bars):
    """The scale leaves room for the longest value label next to the longest bar."""
    spec = charts.bar_spec(bars, width=charts.NARROW)
    top = max(float(v) for _l, v in bars)
    domain = spec["encoding"]["x"]["scale"]["domain"][1]
    assert domain >= top


@pytest.mark.skipif(not using_redis(), reason="needs Redis (GREENFIN_TEST_REDIS=1)")
def test_a_chart_laid_out_once_serves_every_process(app, monkeypatch):
    """With Redis, another process (here: this one with its own cache emptied) finds the drawing."""
    import vl_convert

    spec = charts.bar_spec([(f"shared {uuid.uuid4()}", 1234)])
    with app.app_context():
        first = charts.render_svg(spec)
        charts._svg.cache_clear()
        monkeypatch.setattr(vl_convert, "vegalite_to_svg", lambda spec: pytest.fail("laid out twice"))
        assert charts.render_svg(spec) == first


def test_without_a_shared_cache_each_process_lays_out_once(monkeypatch):
    calls = []
    import vl_convert

    real = vl_convert.vegalite_to_svg
    monkeypatch.setattr(vl_convert, "vegalite_to_svg", lambda spec: calls.append(1) or real(spec))
    spec = charts.bar_spec([(f"local {uuid.uuid4()}", 99)])
    assert charts.render_svg(spec) == charts.render_svg(spec)
    assert calls == [1]


def test_a_chart_among_cards_draws_only_the_phone_width(app):
    """A card never reaches 600 px: its chart is laid out once, at the width it is shown."""
    with app.test_request_context():
        out = str(bar_chart([("a", 1), ("b", 2)], wide=False))
    assert out.count("<svg") == 1 and 'class="chart-narrow"' in out and "chart-wide" not in out
    assert f'width="{charts.NARROW}"' in out
