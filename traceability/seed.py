"""Demo data: the Majia pomelo brand, its products, lots from the demo orchards, certificates,
a full EPCIS journey, a few hundred labels and their scans. Deterministic from the seed RNG."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert, select

from greenfin.core.identifiers import gtin_check_digit
from greenfin.core.models import Parcel, Party
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.extensions import db
from traceability import services
from traceability.models import BrandAuthorisation, Label, Scan

CST = timezone(timedelta(hours=8))
COMPANY_PREFIX = "690123456"  # 9-digit GS1 China company prefix (demo)
REGIONS = ["江西 上饶", "江西 南昌", "浙江 杭州", "上海", "广东 广州", "北京", "福建 厦门", "江苏 南京"]
REGION_COORDS = {"江西 上饶": (28.45, 117.94), "江西 南昌": (28.68, 115.86), "浙江 杭州": (30.27, 120.16),
                 "上海": (31.23, 121.47), "广东 广州": (23.13, 113.26), "北京": (39.90, 116.40),
                 "福建 厦门": (24.48, 118.09), "江苏 南京": (32.06, 118.80)}


def gtin(item: str) -> str:
    body = "0" + COMPANY_PREFIX + item
    return body + gtin_check_digit(body)


def _orchards(party: Party) -> list[Parcel]:
    return list(db.session.scalars(select(Parcel).where(Parcel.holder_id == party.id,
                                                        Parcel.land_cover == "orchard").order_by(Parcel.id)))


def seed_demo(rng: random.Random, context: dict) -> dict:
    parties = context["greenfin.core"]["parties"]
    today = services.today()
    season = date(today.year if today.month >= 11 else today.year - 1, 10, 25)
    coop = parties["广丰区大南镇马家柚种植专业合作社"]
    hujiao = parties["广丰区壶峤镇马家柚专业合作社"]
    paishan = parties["广丰区排山镇马家柚产销合作社"]
    food = parties["江西广丰马家柚食品有限公司"]
    fruit_co = parties["上饶市广丰区马家柚果业有限公司"]
    association = parties["广丰区马家柚产业协会"]
    resort = parties["铜钹山生态旅游发展有限公司"]
    growers = [parties[n] for n in ("周建华", "吴玉兰", "徐国强", "刘春梅")]

    brand = services.create_brand({
        "name": "马家柚", "name_en": "Majia pomelo", "gi_registration": "AGI00957",
        "gi_authority": "农业农村部",
        "gi_region": "江西省上饶市广丰区所辖21个乡镇（街道），北纬28°08′–28°36′，东经118°01′–118°28′",
        "description": "广丰马家柚，果皮金黄、果肉红色，甜酸适中；2012年获农产品地理标志登记。",
    })
    for party in [coop, hujiao, paishan, food, fruit_co] + growers[:3]:
        services.authorise_brand(brand.id, party.id, date(2020, 1, 1), date(2030, 12, 31))
    # One grower's first authorisation lapsed and was renewed (a new period, kept beside the old).
    services.authorise_brand(brand.id, growers[3].id, date(2020, 1, 1), today - timedelta(days=60))
    services.authorise_brand(brand.id, growers[3].id, today - timedelta(days=45), date(2030, 12, 31))
    box = services.create_product({"gtin": gtin("001"), "name": "马家柚鲜果 5kg 礼盒", "name_en": "Majia pomelo, 5 kg gift box",
                                   "brand_id": brand.id, "owner_id": coop.id, "net_content": "5 kg"})
    tea = services.create_product({"gtin": gtin("002"), "name": "马家柚蜂蜜柚子茶", "name_en": "Majia pomelo honey tea",
                                   "brand_id": brand.id, "owner_id": food.id, "net_content": "500 g"})
    peel = services.create_product({"gtin": gtin("003"), "name": "马家柚蜜饯柚皮", "name_en": "Candied Majia pomelo peel",
                                    "brand_id": brand.id, "owner_id": food.id, "net_content": "250 g"})

    # Certificates: valid, expired, revoked, on product, producer and parcel.
    services.grant_certification({"kind": "gi", "number": "AGI00957", "issuer": "农业农村部", "scope": "product",
                                  "party_id": association.id, "product_id": box.id, "valid_from": date(2012, 9, 1),
                                  "valid_until": date(2032, 8, 31)})
    services.grant_certification({"kind": "green_food", "number": f"LB-18-{season.year % 100}1203{rng.randint(1000, 9999)}A",
                                  "issuer": "中国绿色食品发展中心", "scope": "product", "party_id": coop.id,
                                  "product_id": box.id, "valid_from": season - timedelta(days=400),
                                  "valid_until": season + timedelta(days=700)})
    services.grant_certification({"kind": "green_food", "number": f"LB-18-{season.year % 100}1203{rng.randint(1000, 9999)}B",
                                  "issuer": "中国绿色食品发展中心", "scope": "product", "party_id": food.id,
                                  "product_id": tea.id, "valid_from": season - timedelta(days=300),
                                  "valid_until": season + timedelta(days=800)})
    zhou_orchards = _orchards(growers[0])
    if zhou_orchards:
        services.grant_certification({"kind": "organic", "number": f"122OP{season.year}{rng.randint(10000, 99999)}",
                                      "issuer": "南京国环有机产品认证中心", "scope": "parcel", "party_id": growers[0].id,
                                      "parcel_id": zhou_orchards[0].id, "valid_from": season - timedelta(days=200),
                                      "valid_until": season + timedelta(days=165)})
    services.grant_certification({"kind": "test_report", "number": f"JXQT-{season.year - 1}-{rng.randint(1000, 9999)}",
                                  "issuer": "江西省农产品质量安全检测中心", "scope": "producer", "party_id": hujiao.id,
                                  "valid_from": season - timedelta(days=420), "valid_until": season - timedelta(days=60)})
    revoked = services.grant_certification({"kind": "green_food", "number": f"LB-18-{season.year % 100}0911{rng.randint(1000, 9999)}C",
                                            "issuer": "中国绿色食品发展中心", "scope": "producer", "party_id": paishan.id,
                                            "valid_from": season - timedelta(days=500), "valid_until": season + timedelta(days=400)})
    services.revoke_certification(revoked, "年度抽检农药残留超标，撤销绿色食品标志使用权")

    # Lots from the growers' orchards.
    lots = []
    plan = [(coop, "A01", 4200), (coop, "A02", 3600), (hujiao, "H01", 2800), (paishan, "P01", 1900)]
    plan += [(g, f"G{i + 1:02d}", rng.randint(400, 1200)) for i, g in enumerate(growers)]
    for n, (party, suffix, kg) in enumerate(plan):
        orchards = _orchards(party)
        lots.append(services.create_lot({
            "code": f"MJY{season.year}-{suffix}", "product_id": box.id, "producer_id": party.id,
            "harvest_date": season + timedelta(days=n % 5), "quantity": Decimal(kg), "unit": "KGM",
            "parcel_ids": [p.id for p in orchards[:2]]}))
    main = lots[0]

    # The main lot's full journey.
    t0 = datetime.combine(main.harvest_date, datetime.min.time(), CST) + timedelta(hours=7)
    services.record_event(main, "harvest", {"event_time": t0})
    services.record_event(main, "inspection", {"event_time": t0 + timedelta(hours=5), "reference": "JXQT-2026-0815",
                                               "result": "conformant", "note": "农药残留 62 项未检出"})
    services.record_event(main, "grading", {"event_time": t0 + timedelta(hours=8), "grade": "特级 (≥1.5 kg)"})
    batch = services.create_label_batch(main, 300, "a4-3x8")
    services.issue_labels(batch, rng=rng)
    services.record_event(main, "packing", {"event_time": t0 + timedelta(days=1), "per_carton": 6, "max_cartons": 12})
    services.record_event(main, "shipping", {"event_time": t0 + timedelta(days=2), "ship_to_id": resort.id,
                                             "quantity": Decimal("600"), "reference": "SF1402298817"})
    services.record_event(main, "receiving", {"event_time": t0 + timedelta(days=3), "ship_to_id": resort.id,
                                              "quantity": Decimal("600")})
    services.record_event(main, "retail", {"event_time": t0 + timedelta(days=4), "quantity": Decimal("120")})
    services.record_event(main, "shipping", {"event_time": t0 + timedelta(days=2), "ship_to_id": food.id,
                                             "quantity": Decimal("1500"), "reference": "GF-DN-1107"})
    for lot in lots[1:]:
        t = datetime.combine(lot.harvest_date, datetime.min.time(), CST) + timedelta(hours=8)
        services.record_event(lot, "harvest", {"event_time": t})
        services.record_event(lot, "inspection", {"event_time": t + timedelta(hours=6), "result": "conformant"})
    grower_batch = services.create_label_batch(lots[4], 120, "roll-50x30")
    services.issue_labels(grower_batch, rng=rng)

    # Processing: pomelo into tea and candied peel.
    t_proc = t0 + timedelta(days=6)
    tea_lot = services.create_lot({"code": f"TEA{season.year}-01", "product_id": tea.id, "producer_id": food.id,
                                   "quantity": Decimal("2400"), "unit": "H87"})
    services.transform_lot([(main, Decimal("900"))], tea_lot, {"event_time": t_proc, "reference": "SC-2026-031"})
    peel_lot = services.create_lot({"code": f"PEEL{season.year}-01", "product_id": peel.id, "producer_id": food.id,
                                    "quantity": Decimal("1600"), "unit": "H87"})
    services.transform_lot([(main, Decimal("600")), (lots[1], Decimal("300"))], peel_lot,
                           {"event_time": t_proc + timedelta(days=1), "reference": "SC-2026-032"})
    services.issue_labels(services.create_label_batch(tea_lot, 80, "roll-40x30"), rng=rng)

    # Scans over the last weeks: mostly one or two per label, one copied label, one recalled lot.
    serials = db.session.execute(select(Label.id, Label.lot_id).where(Label.batch_id == batch.id)
                                 .order_by(Label.id)).all()
    now = utcnow()
    rows = []
    for label_id, lot_id in serials[:180]:
        region = rng.choice(REGIONS[:5])
        first = now - timedelta(days=rng.randint(1, 25), minutes=rng.randint(0, 1200))
        for k in range(rng.choice((1, 1, 1, 2, 3))):
            lat, lon = REGION_COORDS[region]
            rows.append({"label_id": label_id, "lot_id": lot_id, "scanned_at": first + timedelta(hours=30 * k),
                         "verdict": "genuine" if k == 0 else "genuine_repeat", "region": region,
                         "lat": Decimal(str(lat)), "lon": Decimal(str(lon))})
    copied_id, copied_lot = serials[200]
    for k in range(26):
        region = REGIONS[k % len(REGIONS)]
        rows.append({"label_id": copied_id, "lot_id": copied_lot, "scanned_at": now - timedelta(days=3, hours=-k),
                     "verdict": "genuine" if k == 0 else ("genuine_repeat" if k < 2 else "suspicious"),
                     "reason": None if k < 2 else ("far_apart" if k < 20 else "too_many"), "region": region})
    for k in range(7):
        rows.append({"verdict": "not_genuine", "reason": "unknown", "scanned_at": now - timedelta(days=k, hours=3),
                     "region": rng.choice(REGIONS), "path": f"/01/{box.gtin}/10/{main.code}/21/FAKE{k:04d}"})
    # Someone guessing serials of the gift box from one address (a documentation network, RFC 5737):
    # 14 unrecognised codes in a few minutes, flagged at the 10th for the regulators' review.
    window = datetime.fromtimestamp((now - timedelta(days=2)).timestamp() // services.ENUMERATION_WINDOW
                                    * services.ENUMERATION_WINDOW, timezone.utc)
    for k in range(14):
        rows.append({"verdict": "not_genuine", "reason": "unknown", "scanned_at": window + timedelta(seconds=25 * k),
                     "ip_prefix": "203.0.113.0/24", "user_agent": "python-requests/2.32",
                     "path": f"/01/{box.gtin}/10/{main.code}/21/{rng.randrange(16**8):08X}"})
    flag = record_audit(services.ENUMERATION_ACTION, "scan_client", "203.0.113.45", after={
        "unrecognised_codes_in_10_minutes": services.ENUMERATION_THRESHOLD, "last_path": rows[-5]["path"],
        "gtin": box.gtin, "lot": main.code, "window_start": window})
    flag.occurred_at = rows[-5]["scanned_at"]
    db.session.execute(insert(Scan), rows)
    # An earlier guesser's network, blocked by hand for a month (the flags page lists the block).
    services.block_network("198.51.100.0/24", 30, "连续多日批量猜测礼盒序列号，封禁一个月（演示数据）",
                           now=now - timedelta(days=3))
    services.recall_lot(lots[3], "抽检发现农药残留（毒死蜱）超过 GB 2763 限量，依法召回", actor_id=None)
    # One grower's authorisation ended ten days ago and is not renewed (registered for a shorter
    # period than the others): his lot stays traced, but the market refuses to offer it.
    lapsed = db.session.scalar(select(BrandAuthorisation).where(BrandAuthorisation.brand_id == brand.id,
                                                                BrandAuthorisation.party_id == growers[2].id))
    lapsed.valid_until = today - timedelta(days=10)
    return {"brand": brand, "products": [box, tea, peel], "lots": lots + [tea_lot, peel_lot]}
