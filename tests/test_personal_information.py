"""PIPL: no plain resident ID number anywhere in the database, exports or logs after the demo seed."""
import re

import pytest
from sqlalchemy import String, Text, select

from greenfin.core.identifiers import InvalidIdentifier, normalise_resident_id
from greenfin.core.types import JSONType
from greenfin.extensions import db

pytestmark = pytest.mark.no_db_isolation  # reads the demo database, not the test transaction

CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def resident_ids_in(text: str) -> list[str]:
    found = []
    for candidate in CANDIDATE.findall(text or ""):
        try:
            found.append(normalise_resident_id(candidate))
        except InvalidIdentifier:
            pass
    return found


def test_detector_finds_a_real_number():
    assert resident_ids_in("身份证 11010519491231002X 已登记") == ["11010519491231002X"]
    assert resident_ids_in("11010519491231002X1") == []


def test_no_plain_resident_id_in_demo_database(demo_app):
    hits = []
    with demo_app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text)) or c.type is JSONType
                       or type(c.type).__name__ in ("JSON", "Variant")]
            if not columns:
                continue
            for row in db.session.execute(select(*columns)):
                for column, value in zip(columns, row):
                    for number in resident_ids_in(str(value)):
                        hits.append(f"{table.name}.{column.name}: {number[:3]}…")
    assert not hits, hits


def test_no_plain_resident_id_in_seed_output(demo_app):
    assert resident_ids_in(demo_app.config["SEED_OUTPUT"]) == []


@pytest.mark.parametrize("path", ["/api/v1/parties?page_size=100"])
def test_no_plain_resident_id_in_api_exports(demo_app, path):
    from greenfin.core import services

    with demo_app.app_context():
        admin = db.session.scalar(select(services.User).where(services.User.role == "admin"))
        _token, plain = services.issue_token(admin, "pii-scan")
        db.session.commit()
    body = demo_app.test_client().get(path, headers={"Authorization": f"Bearer {plain}"}).get_data(as_text=True)
    assert "id_masked" in body
    assert resident_ids_in(body) == []
