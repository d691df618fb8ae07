"""A believable demo of Guangfeng district: parties, parcels and one user per role.

Deterministic (seeded RNG), so every ``make demo`` shows the same district.
Resident ID numbers are generated with valid check digits and exist only in
memory here: the database keeps their keyed hash and masked form.
"""
from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select
from werkzeug.security import check_password_hash

from greenfin.core import geography, services
from greenfin.core.identifiers import USCC_ALPHABET, id_check_char, uscc_check_char

# name, kind, uscc prefix, township, village, sector
FIRMS = [
    ("上饶市广丰区马家柚果业有限公司", "firm", "91", "danan", "古村村", "pomelo"),
    ("江西广丰马家柚食品有限公司", "firm", "91", "yongfeng", "城东社区", "food_processing"),
    ("广丰区铜钹山茶业有限公司", "firm", "91", "tongboshan", "九仙湖村", "tea"),
    ("广丰区丰溪林业开发有限公司", "firm", "91", "wucun", "吴村村", "forestry"),
    ("上饶农村商业银行广丰支行", "firm", "91", "yongfeng", "永丰社区", "banking"),
    ("铜钹山生态旅游发展有限公司", "firm", "91", "tongboshan", "白花岩村", "eco_tourism"),
    ("广丰区洋口生态渔业有限公司", "firm", "91", "yangkou", "洋口村", "fishery"),
    ("广丰区绿源有机肥有限公司", "firm", "91", "paishan", "排山村", "fertiliser"),
]
ORGANISATIONS = [
    ("广丰区大南镇马家柚种植专业合作社", "organisation", "93", "danan", "古村村", "pomelo"),
    ("广丰区壶峤镇马家柚专业合作社", "organisation", "93", "hujiao", "壶峤村", "pomelo"),
    ("广丰区排山镇马家柚产销合作社", "organisation", "93", "paishan", "南山村", "pomelo"),
    ("广丰区横山镇绿色果蔬专业合作社", "organisation", "93", "hengshan", "横山村", "vegetables"),
    ("广丰区马家柚产业协会", "organisation", "51", "yongfeng", "永丰社区", "association"),
    ("广丰区大南镇古村村民委员会", "organisation", "N2", "danan", "古村村", "village"),
]
INDIVIDUALS = [
    ("周建华", "danan", "古村村"), ("吴玉兰", "danan", "大南村"), ("徐国强", "hujiao", "壶峤村"),
    ("郑秋生", "hujiao", "溪边村"), ("刘春梅", "paishan", "南山村"), ("王志明", "paishan", "排山村"),
    ("俞永福", "dashi", "大石村"), ("祝小燕", "xiafeng", "霞峰村"), ("杨德胜", "wudu", "五都村"),
    ("邱丽华", "hengshan", "横山村"), ("毛建军", "maocun", "毛村村"), ("管红英", "tongfan", "桐畈村"),
    ("饶金水", "shatian", "沙田村"), ("叶春燕", "quanbo", "泉波村"),
]

# land cover by sector of the holder: (cover, (min_ha, max_ha), certificate type)
PARCEL_PLAN = {
    "pomelo": [("orchard", (3, 40), "land_contract")],
    "food_processing": [("built", (1, 3), "real_estate")],
    "tea": [("tea", (10, 60), "land_contract"), ("forest", (80, 300), "forest_rights")],
    "forestry": [("forest", (200, 900), "forest_rights"), ("forest", (150, 600), "forest_rights")],
    "eco_tourism": [("forest", (300, 1200), "forest_rights"), ("water", (20, 80), "water_area")],
    "fishery": [("water", (15, 60), "water_area"), ("wetland", (5, 30), "water_area")],
    "fertiliser": [("built", (1, 4), "real_estate")],
    "vegetables": [("farmland", (10, 50), "land_contract")],
    "village": [("forest", (100, 500), "forest_rights"), ("farmland", (20, 80), "collective_land")],
    "individual": [("orchard", (0.6, 8), "land_contract")],
}

DEMO_USERS = [
    ("admin", "系统管理员", "admin", None),
    ("officer", "李信贷 (农商银行广丰支行)", "loan_officer", None),
    ("officer2", "陈审批 (农商银行广丰支行)", "loan_officer", None),
    ("regulator", "张监管 (广丰区生态环境局)", "regulator", None),
    ("regulator2", "赵复核 (广丰区生态环境局)", "regulator", None),
    ("insurer", "王承保 (人保财险广丰支公司)", "insurer", None),
    ("insurer2", "吴核赔 (人保财险广丰支公司)", "insurer", None),
    ("producer", "大南镇马家柚合作社", "producer", "广丰区大南镇马家柚种植专业合作社"),
    ("grower", "周建华", "producer", "周建华"),
    ("buyer", "孙采购 (广丰区第一中学食堂)", "buyer", "广丰区第一中学"),
]
DEMO_PASSWORD_SUFFIX = "-demo-2026"


def make_uscc(rng: random.Random, prefix: str) -> str:
    body = prefix + geography.DISTRICT_CODE + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def make_resident_id(rng: random.Random) -> str:
    body = (geography.DISTRICT_CODE + f"{rng.randint(1955, 1998)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            + f"{rng.randint(0, 999):03d}")
    return body + id_check_char(body)


def _township(code: str):
    return next(t for t in geography.TOWNSHIPS if t[0] == code)


def demo_accounts() -> list[tuple[str, str, str]]:
    """The demo accounts that still sign in with their demo password: (username, password, role).

    ``flask seed-demo`` prints them on every run, not only the first; an account whose password
    was changed (or that was switched off) is left out.
    """
    from greenfin.core.models import User
    from greenfin.extensions import db

    names = [username for username, *_rest in DEMO_USERS]
    users = {user.username: user for user in db.session.scalars(select(User).where(User.username.in_(names)))}
    accounts = []
    for username, *_rest in DEMO_USERS:
        user, password = users.get(username), username + DEMO_PASSWORD_SUFFIX
        if user is not None and user.active and check_password_hash(user.password_hash, password):
            accounts.append((username, password, user.role))
    return accounts


def seed_demo(rng: random.Random) -> dict:
    services.ensure_townships()
    parties = {}
    for name, kind, prefix, township, village, sector in FIRMS + ORGANISATIONS:
        parties[name] = services.create_party({
            "kind": kind, "name": name, "uscc": make_uscc(rng, prefix), "township_code": township,
            "village": village, "sector": sector, "contact_name": "办公室",
            "contact_phone": f"0793-26{rng.randint(10000, 99999)}",
        })
    for name, township, village in INDIVIDUALS:
        parties[name] = services.create_party({
            "kind": "individual", "name": name, "resident_id": make_resident_id(rng), "township_code": township,
            "village": village, "sector": "pomelo", "contact_phone": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
        })
    serial = 0
    for name, party in parties.items():
        plan = PARCEL_PLAN.get("individual" if party.kind == "individual" else party.sector, [])
        _code, _zh, _en, _kind, lat, lon = _township(party.township_code)
        for cover, (lo, hi), cert_type in plan:
            serial += 1
            area = Decimal(str(round(rng.uniform(lo, hi), 2)))
            services.create_parcel({
                "code": f"GF-{party.township_code[:3].upper()}-{serial:04d}",
                "name": f"{party.village}{ {'orchard': '柚园', 'forest': '林地', 'tea': '茶园', 'water': '水面', 'wetland': '湿地', 'farmland': '耕地', 'built': '厂区'}[cover] }",
                "holder_id": party.id, "township_code": party.township_code, "village": party.village,
                "area_ha": area, "land_cover": cover,
                "lat": Decimal(str(round(lat + rng.uniform(-0.03, 0.03), 6))),
                "lon": Decimal(str(round(lon + rng.uniform(-0.03, 0.03), 6))),
                "cert_type": cert_type,
                "cert_no": f"赣({2016 + serial % 8})广丰区{'林权' if cert_type == 'forest_rights' else '不动产权'}第{rng.randint(1000000, 9999999)}号",
            })
    users = []
    for username, display, role, party_name in DEMO_USERS:
        if party_name and party_name not in parties:
            continue  # the party is seeded by a later package (the market's buyers), which adds its user
        password = username + DEMO_PASSWORD_SUFFIX
        services.create_user({"username": username, "display_name": display, "role": role, "password": password,
                              "party_id": parties[party_name].id if party_name else None})
        users.append((username, password, role))
    return {"parties": parties, "users": users}
