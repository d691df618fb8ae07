"""Carbon registry factories: a project on a forest parcel with an issued vintage."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest

from greenfin.carbon import services
from greenfin.extensions import db
from tests.lending.conftest import champion, create_application, products  # noqa: F401 (fixtures)
from tests.pools.conftest import create_pool  # noqa: F401 (fixtures)


@pytest.fixture
def create_project(create_party, create_parcel):
    def factory(owner=None, **overrides):
        owner = owner or create_party(kind="organisation", name=f"测试村集体{secrets.token_hex(2)}")
        parcel = create_parcel(holder_id=owner.id, land_cover="forest", area_ha=Decimal("213.1"), cert_type="forest_rights")
        data = {"code": "T" + secrets.token_hex(3).upper(), "name": "测试林业碳汇项目", "method": "CCER-14-001-V01",
                "owner_id": owner.id, "crediting_start": date(2020, 1, 1), "crediting_end": date(2039, 12, 31),
                "parcel_ids": [parcel.id], "buffer_share": "0.10"}
        data.update(overrides)
        project = services.create_project(data)
        db.session.commit()
        return project

    return factory


@pytest.fixture
def issued_project(create_project):
    """A project with vintage 2024 verified at ``tonnes`` and issued: (project, owner's block, buffer block)."""

    def factory(tonnes="1000", vintage=2024, **overrides):
        project = create_project(**overrides)
        report = services.submit_report(project, {"vintage": vintage, "verified_tonnes": tonnes,
                                                  "verifier": "中环联合认证中心", "document": "VR-2025-001"})
        services.decide_report(report, True)
        services.issue_report(report)
        db.session.commit()
        blocks = db.session.scalars(services.block_query(project_id=project.id)).all()
        owner_block = next(b for b in blocks if b.state == "available")
        buffer_block = next(b for b in blocks if b.state == "buffer")
        return project, owner_block, buffer_block

    return factory
