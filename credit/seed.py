"""Demo eco-credit data: a year of postings for the demo parties and published quarterly ratings.

Deterministic from the seed's RNG. 2026-Q1 to Q3 are rated, reviewed and published
(mostly green and blue, a few yellow, one red firm through a veto item); 2026-Q4 is
computed and waits in the review queue, with pending postings and a repair application.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from credit import ledger, ratings
from credit.common import add_months, today as today_utc
from credit.rules import ensure_rule_catalogue
from credit.models import RatingRun
from greenfin.core.models import User
from greenfin.extensions import db

VETO_FIRM = "广丰区绿源有机肥有限公司"
YELLOW_FIRM = "广丰区洋口生态渔业有限公司"
YELLOW_PEOPLE = ("郑秋生", "毛建军")
START = date(2025, 12, 1)


def _days(rng: random.Random, start: date, end: date, count: int) -> list[date]:
    span = (end - start).days
    return sorted(start + timedelta(days=rng.randint(0, span)) for _ in range(count))


def _monthly(start: date, end: date, day: int = 25) -> list[date]:
    out, current = [], date(start.year, start.month, day)
    while current <= end:
        out.append(current)
        current = add_months(current, 1)
    return out


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(4, 0), tzinfo=timezone.utc)


def seed_demo(rng: random.Random, context: dict) -> dict:
    ensure_rule_catalogue()
    parties = context["greenfin.core"]["parties"]
    users = {u.username: u for u in db.session.scalars(select(User))}
    regulator, second = users.get("regulator"), users.get("regulator2")
    today = today_utc()
    end = min(today, date(2026, 11, 20))
    serial = 0

    def post(party, code, day, **evidence):
        nonlocal serial
        serial += 1
        evidence.setdefault("inspector", rng.choice(["王巡查", "李环保", "陈执法", "徐站长"]))
        result = ledger.submit_posting(party.id, code, idempotency_key=f"demo:{serial}", effective_date=day,
                                       evidence=evidence, source="demo", review=False)
        return result.posting

    for name, party in parties.items():
        if party.kind == "firm":
            for day in _monthly(START, end, 28)[2::3]:
                post(party, "FIRM_EMISSIONS_COMPLIANT", day, document=f"GF-JC-{day:%Y%m}-{party.id:03d}")
            post(party, "FIRM_PERMIT_COMPLIANT", date(2026, 1, 20), document="排污许可执行报告(2025年度)")
            post(party, "FIRM_SELF_MONITORING", date(2026, 3, 15))
            if rng.random() < 0.8:
                post(party, "FIRM_DISCLOSURE", date(2026, 4, 30), document="企业环境信息依法披露年报")
            if rng.random() < 0.5:
                post(party, "FIRM_RISK_PLAN", date(2026, 6, 5), document="应急预案备案表")
            if rng.random() < 0.35:
                post(party, "FIRM_COMPLAINT_UPHELD", _days(rng, date(2026, 2, 1), date(2026, 9, 1), 1)[0],
                     document=f"12369-{rng.randint(10000, 99999)}")
        elif party.sector == "village":
            for day in _monthly(START, end):
                post(party, "GREEN_WASTE_SORTING", day, document=f"{party.village}垃圾分类月检")
            post(party, "GREEN_TREE_PLANTING", date(2026, 3, 12), document="义务植树登记")
            post(party, "GREEN_RIVER_PATROL", date(2026, 7, 8), document="丰溪河巡河记录")
        elif party.kind == "organisation":
            post(party, "GREEN_CERTIFIED_FARMING", date(2026, 2, 10), document=f"LB-{rng.randint(10, 99)}-2602{rng.randint(100000, 999999)}")
            for day in _days(rng, START, end, rng.randint(2, 5)):
                post(party, rng.choice(["GREEN_PACKAGING_RECYCLING", "GREEN_STRAW_REUSE", "GREEN_RIVER_PATROL"]), day)
        else:
            for day in _monthly(START, end)[rng.randint(0, 3):]:
                if rng.random() < 0.8:
                    post(party, "GREEN_WASTE_SORTING", day, document=f"{party.village}垃圾分类月检")
            if rng.random() < 0.6:
                post(party, "GREEN_TREE_PLANTING", date(2026, 3, 12))
            if rng.random() < 0.5:
                post(party, "GREEN_RIVER_PATROL", _days(rng, START, end, 1)[0], document="巡河记录")
            if rng.random() < 0.4:
                post(party, "GREEN_CERTIFIED_FARMING", date(2026, 5, 6), document="绿色食品证书")

    # Violations that make the distribution realistic.
    post(parties[YELLOW_FIRM], "FIRM_EMISSION_EXCEEDED", date(2026, 5, 18), document="广环罚〔2026〕17号")
    post(parties[YELLOW_FIRM], "FIRM_MEDIA_EXPOSURE", date(2026, 6, 2), document="上饶日报 2026-06-01")
    post(parties[YELLOW_FIRM], "FIRM_COMPLAINT_UPHELD", date(2026, 7, 9), document="12369-55821")
    post(parties[YELLOW_FIRM], "FIRM_COMPLAINT_UPHELD", date(2026, 8, 21), document="12369-57310")
    post(parties[VETO_FIRM], "FIRM_VETO_DATA_FRAUD", date(2026, 8, 12), document="广环罚〔2026〕31号",
         note="在线监测数据造假，一票否决")
    for name in YELLOW_PEOPLE:
        post(parties[name], "VIOL_STRAW_BURNING", date(2026, 6, 20), document="禁烧巡查记录")
        post(parties[name], "VIOL_PESTICIDE_MISUSE", date(2026, 7, 15), document="农残抽检报告 GF-NC-2607")
    # A correction: a duplicate entry reversed by a regulator.
    duplicate = post(parties["周建华"], "GREEN_TREE_PLANTING", date(2026, 3, 12), document="义务植树登记(重复)")
    ledger.reverse_posting(duplicate.id, reason="重复录入，同一次植树已记分", idempotency_key="demo:reversal:1",
                           actor=regulator)

    # Three quarters rated, reviewed, noticed and published.
    for code in ("2026-Q1", "2026-Q2", "2026-Q3"):
        period = ratings.get_or_create_period(code)
        run = RatingRun(period_id=period.id, status="started", created_by="seed-demo")
        db.session.add(run)
        db.session.flush()
        ratings.rate_all(run)
        reviewed = _noon(period.ends_on + timedelta(days=5))
        period_ratings = list(db.session.scalars(ratings.rating_query(period=code)))
        if code == "2026-Q3":
            # A regulator lowers one level with a second regulator's approval.
            lowered = next(r for r in period_ratings if r.party.name == "广丰区丰溪林业开发有限公司")
            override = ratings.request_override(lowered.id, to_colour="blue", actor=regulator,
                                                 reason="林地抚育检查发现防火隔离带未按期清理，下调一级")
            ratings.decide_override(override.id, approve=True, actor=second)
        for rating in period_ratings:
            ratings.approve_rating(rating.id, actor=regulator, now=reviewed)
        if code == "2026-Q3":
            objecting = next(r for r in period_ratings if r.party.name == YELLOW_FIRM)
            objection = ratings.file_objection(objecting.id, "5月超标排放已整改并通过复测，请求重新评价。",
                                               actor=None, now=reviewed + timedelta(days=3))
            ratings.answer_objection(objection.id, decision="dismissed", actor=regulator,
                                     answer="整改情况已核实，但超标排放记录在公示期内，维持警示等级。",
                                     now=reviewed + timedelta(days=8))
        for rating in period_ratings:
            ratings.publish_rating(rating.id, actor=regulator, now=rating.notice_ends_at)

    # The red firm applies for credit repair; it waits for review.
    red = db.session.scalar(ratings.rating_query(period="2026-Q3").where(ratings.Rating.colour == "red"))
    if red is not None:
        ratings.apply_repair(red.id, "已完成在线监测设备整改并通过第三方比对监测，负责人已参加信用修复培训。",
                             actor=None)

    # The current quarter is computed and waits for review; a few postings wait for approval.
    period = ratings.get_or_create_period("2026-Q4")
    run = RatingRun(period_id=period.id, status="started", created_by="seed-demo")
    db.session.add(run)
    db.session.flush()
    ratings.rate_all(run)
    pending_plan = [("王志明", "VIOL_STRAW_BURNING", "禁烧巡查记录 11-18"),
                    ("广丰区横山镇绿色果蔬专业合作社", "GREEN_CERTIFIED_FARMING", "有机产品认证证书"),
                    ("江西广丰马家柚食品有限公司", "FIRM_COMPLAINT_UPHELD", "12369-60217")]
    for name, code, document in pending_plan:
        serial += 1
        ledger.submit_posting(parties[name].id, code, idempotency_key=f"demo:{serial}", effective_date=end,
                              evidence={"document": document, "inspector": "李环保"}, source="demo",
                              actor=users.get("admin"))
    intake = _seed_intake(parties, end)
    return {"periods": ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"], "intake_id": intake.id}


def _seed_intake(parties: dict, end: date):
    """A village's monthly waste-sorting checks as a bulk intake (its job runs after the seed's commit):
    every individual checked, two lines refused (a firm under a residents' rule, an unknown number)."""
    from credit.intake import start_intake

    lines = ["party,rule_code,effective_date,document,inspector,note,source_id"]
    checked = sorted((p for p in parties.values() if p.kind == "individual"), key=lambda p: p.id)
    for n, party in enumerate(checked, 1):
        lines.append(f"{party.id},GREEN_WASTE_SORTING,{end.isoformat()},垃圾分类检查表 {end:%Y-%m}-{n:03d},村保洁员,,"
                     f"WASTE-{end:%Y%m}-{party.id}")
    firm = next(p for p in sorted(parties.values(), key=lambda p: p.id) if p.kind == "firm")
    lines.append(f"{firm.uscc},GREEN_WASTE_SORTING,{end.isoformat()},垃圾分类检查表,村保洁员,,WASTE-{end:%Y%m}-F")
    lines.append(f"361123190001010000,GREEN_WASTE_SORTING,{end.isoformat()},垃圾分类检查表,村保洁员,,WASTE-{end:%Y%m}-X")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return start_intake(data, f"waste-sorting-{end:%Y-%m}.csv")
