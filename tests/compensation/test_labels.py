"""An allocation row's basis reads as words in the notice, never as keys and codes."""
from flask_babel import force_locale

from greenfin.compensation.labels import basis_lines

BASIS = {"role": "ranger", "months": 12, "monthly_pay": "800.00", "credit_rule": "GREEN_TREE_PLANTING",
         "area_ha": {"forest": "466.4033"}, "direction": "downstream_pays", "regulating": "67367913.23",
         "means": {"codmn": "3.537000"}, "score": "3285411861899864114/11682220323780066315",
         "score_decimal": "0.2812318"}


def test_basis_lines_name_every_key_and_code_in_chinese(app):
    with app.test_request_context(), force_locale("zh_CN"):
        lines = basis_lines(BASIS)
    text = "\n".join(lines)
    for code in ("ranger", "GREEN_TREE_PLANTING", "forest", "downstream_pays", "codmn", "area_ha", "monthly_pay",
                 "3285411861899864114"):
        assert code not in text
    assert "月报酬（元）: 800.00" in lines
    assert "调节服务GEP（元）: 67,367,913.23" in lines
    assert len(lines) == len(BASIS) - 1  # the exact fraction is shown as its decimal


def test_basis_lines_in_english(app):
    with app.test_request_context(), force_locale("en"):
        lines = basis_lines({"role": "river_patrol", "means": {"tp": "0.094417"}})
    assert lines == ["Job: River patroller", "Mean concentrations (mg/L): Total phosphorus 0.094417"]
