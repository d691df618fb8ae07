"""The one catalogue of display labels (greenfin/labels.py), the business-time filters
(greenfin/dates.py) and service messages with parameters (greenfin/errors.py)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenfin import dates
from greenfin.errors import N_, translate
from greenfin.labels import enumerations, label, label_in, label_pair

CJK = re.compile(r"[\u3400-\u9fff]")


def in_language(app, locale):
    """A request in ``locale`` (Flask-Babel caches the locale on the app context: refresh it)."""
    from flask_babel import refresh

    ctx = app.test_request_context(f"/?lang={locale}")
    ctx.push()
    refresh()
    return ctx


def _every_label():
    return [(name, code) for name, labels in enumerations().items() for code in labels]


def test_the_issue_enumerations_are_declared(app):
    declared = set(enumerations())
    assert {"township", "sector", "land_cover", "cbv_step", "cbv_disposition", "unit", "label_layout",
            "credit_rule", "evidence_key", "use_of_proceeds", "score_feature", "loan_status", "dpd_bucket",
            "amortisation", "colour", "cert_kind", "gep_service"} <= declared


def test_every_label_reads_chinese_in_chinese_and_english_in_english(app):
    wrong = []
    for language, locale in (("zh", "zh_CN"), ("en", "en")):
        ctx = in_language(app, locale)
        try:
            for name, code in _every_label():
                text = label(name, code)
                if not text or text == code and " " not in code or bool(CJK.search(text)) != (language == "zh"):
                    wrong.append((language, name, code, text))
        finally:
            ctx.pop()
    assert not wrong, wrong[:20]


def test_label_in_gives_either_language_outside_a_request(app):
    assert label_pair("township", "danan") == ("大南镇", "Danan Town")
    assert label_in("unit", "KGM", "zh") == "千克"
    assert label_in("cbv_step", "commissioning", "en") == "Commissioning"
    with app.app_context():  # a lazy (catalogue) label in a chosen language, e.g. for a PDF
        assert label_in("land_cover", "orchard", "zh") == "园地(果园)"
        assert label_in("land_cover", "orchard", "en") == "Orchard"


def test_undeclared_code_shows_as_it_is_and_nothing_shows_as_nothing(app):
    ctx = in_language(app, "zh_CN")
    assert label("township", "atlantis") == "atlantis"
    assert label("no_such_enumeration", "x1") == "x1"
    assert label("township", None) == "" and label("township", "") == ""
    ctx.pop()


def test_jinja_label_global_and_filter(app):
    ctx = in_language(app, "zh_CN")
    render = app.jinja_env.from_string("{{ label('cbv_disposition', 'in_transit') }}|{{ 'a4-3x8' | label('label_layout') }}")
    assert render.render() == "在途|A4 纸，3 × 8（70 × 37 毫米）"
    ctx.pop()


def test_form_choices_follow_the_reader_language(app):
    from traceability.forms import LotForm

    for locale, kg in (("zh_CN", "千克"), ("en", "kg")):
        ctx = in_language(app, locale)
        try:
            form = LotForm(meta={"csrf": False})
            assert str(dict(form.unit.choices)["KGM"]) == kg
        finally:
            ctx.pop()


def test_scorecard_reason_names_townships_not_codes(app):
    """The reason of issue #16: "所在乡镇历史违约率较高（wucun, fengxi, quanbo, hujiao (+1)）"."""
    from greenfin.lending.labels import bin_label
    from greenfin.lending.scoring.bins import FeatureBins

    members = ["wucun", "fengxi", "quanbo", "hujiao", "danan"]
    bins = FeatureBins(name="township", kind="categorical", categories={**{m: 0 for m in members}, "yongfeng": 1},
                       other_bin=1, labels=["wucun, fengxi, quanbo, hujiao (+1)", "other"])
    assert bin_label(bins, 0, "zh") == "吴村镇、丰溪街道、泉波镇、壶峤镇（另 1 个）"
    assert bin_label(bins, 0, "en") == "Wucun Town, Fengxi Subdistrict, Quanbo Town, Hujiao Town (+1 more)"
    assert bin_label(bins, 1, "zh") == "其他" and bin_label(bins, -1, "en") == "Missing"


def test_scored_reason_text_is_worded_in_both_languages(app):
    from greenfin.lending.scoring.scorecard import Scorecard
    from greenfin.lending.scoring.bins import FeatureBins

    card = Scorecard()
    card.bins = [FeatureBins(name="sector", kind="categorical", categories={"pomelo": 0, "tea": 1}, other_bin=1,
                             labels=["pomelo", "other"])]
    reason = card._reason(0, 0, 12.5)
    assert reason["zh"] == "所属行业风险较高（马家柚种植）"
    assert reason["en"] == "Sector with higher observed risk (Majia pomelo growing)"
    assert reason["code"] == "RC_SECTOR"  # machines keep the code (API, scored CSV)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_page_never_shows_a_date_and_a_time_that_disagree(naive_utc):
    """Dates and times of one instant come from one timezone (the newcomers' complaint in #16)."""
    instant = naive_utc.replace(tzinfo=timezone.utc)
    shown = dates.local_datetime(instant)
    assert shown[:10] == dates.local_date(instant) == dates.business_date(instant).isoformat()
    assert shown[11:] == dates.local_time(instant)
    assert dates.local_datetime(naive_utc) == shown  # stored instants read back naive are UTC


def test_local_datetime_is_beijing_time():
    late_evening_utc = datetime(2026, 12, 6, 16, 30, tzinfo=timezone.utc)
    assert dates.local_datetime(late_evening_utc) == "2026-12-07 00:30"
    assert dates.local_date(late_evening_utc) == "2026-12-07"
    assert dates.local_datetime(late_evening_utc + timedelta(seconds=5), seconds=True) == "2026-12-07 00:30:05"
    assert dates.local_date(late_evening_utc.date()) == "2026-12-06"  # a date is a date
    assert dates.local_date(None) == "" and dates.local_datetime(None) == ""


def test_filters_render_business_time_in_templates(app):
    with app.test_request_context("/"):
        out = app.jinja_env.from_string("{{ t | local_date }} {{ t | local_datetime }} {{ t | local_time }}").render(
            t=datetime(2026, 12, 6, 16, 30, tzinfo=timezone.utc))
    assert out == "2026-12-07 2026-12-07 00:30 00:30"


def test_service_message_with_parameters_is_english_for_the_api_and_translated_for_pages(app):
    message = N_("must be between %(lo)s and %(hi)s yuan for %(product)s", lo="10,000.00", hi="500,000.00",
                 product=("生态信用贷", "Eco-credit loan"))
    assert message == "must be between 10,000.00 and 500,000.00 yuan for Eco-credit loan"
    ctx = in_language(app, "zh_CN")
    assert translate(message) == "生态信用贷 的金额须在 10,000.00 至 500,000.00 元之间"
    assert translate(N_("must be in whole cents")) == "金额最多精确到分"
    ctx.pop()
    ctx = in_language(app, "en")
    assert translate(message) == message
    ctx.pop()


@pytest.mark.parametrize("kind", ["KGM", "TNE", "H87", "XBX"])
def test_every_lot_unit_has_a_label(kind):
    from traceability.models import LOT_UNITS

    assert kind in LOT_UNITS
    zh, en = label_pair("unit", kind)
    assert CJK.search(zh) and en != kind


def test_refused_request_is_shown_in_the_reader_language(app):
    from greenfin.errors import ValidationFailed, error_text

    exc = ValidationFailed.field("year", N_("must be between %(lo)s and %(hi)s", lo=1990, hi=2100))
    assert exc.message == "Invalid input (year: must be between 1990 and 2100)"  # the API's words
    ctx = in_language(app, "zh_CN")
    assert error_text(exc) == "输入无效: 须在 1990 至 2100 之间"
    ctx.pop()


def test_every_gep_reference_parameter_has_a_name(app):
    from greenfin.gep.labels import PARAMETER_NAMES, parameter_label
    from greenfin.gep.reference import reference_rows

    bases = {row[0].partition(".")[0] for year in (2024, 2025) for row in reference_rows(year)}
    assert bases <= set(PARAMETER_NAMES), sorted(bases - set(PARAMETER_NAMES))
    ctx = in_language(app, "zh_CN")
    assert parameter_label("cover_c.orchard") == "植被覆盖与管理因子 C · 园地(果园)"
    assert parameter_label("price_carbon") == "碳价"
    ctx.pop()


def test_model_card_says_why_a_column_was_left_out(app):
    from greenfin.lending.labels import ignored_label

    ctx = in_language(app, "zh_CN")
    assert ignored_label("id-like name with unique values") == "编号类列，取值唯一"
    assert ignored_label("weak (IV 0.004)") == "区分力弱（IV 0.004）"
    ctx.pop()
    assert ignored_label("weak (IV 0.004)", "en") == "weak (IV 0.004)"
