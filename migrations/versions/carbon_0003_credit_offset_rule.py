"""credit: the rules that price carbon retirements for one's own emissions and verified forest monitoring

Revision ID: carbon_0003
Revises: credit_0006
Create Date: 2026-12-07 04:15:00

The carbon registry announces ``carbon_units_retired`` when a holder retires units on its own
behalf and ``carbon_vintage_issued`` when a verified monitoring report is issued; credit's receivers
post ``CARBON_OFFSET_RETIRED`` and ``CARBON_PROJECT_VERIFIED`` (reviewable in the rule catalogue and
corrected, like every event posting, by a regulator's reversal).
"""
from datetime import date

from alembic import op
import sqlalchemy as sa

revision = 'carbon_0003'
down_revision = 'credit_0007'
branch_labels = None
depends_on = None

CODES = ("CARBON_OFFSET_RETIRED", "CARBON_PROJECT_VERIFIED")


def upgrade():
    from greenfin.core.types import JSONType, UTCDateTime, utcnow

    rules = sa.table(
        "credit_rules",
        sa.column("code", sa.String), sa.column("version", sa.Integer), sa.column("effective_from", sa.Date),
        sa.column("effective_to", sa.Date), sa.column("category", sa.String),
        sa.column("description_zh", sa.String), sa.column("description_en", sa.String),
        sa.column("party_kinds", JSONType), sa.column("points", sa.Integer),
        sa.column("evidence_required", sa.String), sa.column("legal_basis", sa.String),
        sa.column("display_months", sa.Integer), sa.column("veto", sa.Boolean),
        sa.column("created_at", UTCDateTime()), sa.column("created_by", sa.String),
    )
    common = {"version": 1, "effective_from": date(2024, 1, 1), "effective_to": None, "category": "event",
              "legal_basis": "GreenFin 林业碳汇登记簿", "display_months": 12, "veto": False, "created_at": utcnow(),
              "created_by": "catalogue"}
    op.bulk_insert(rules, [
        common | {"code": CODES[0], "description_zh": "注销林业碳票抵消自身排放",
                  "description_en": "Forest carbon units retired to offset own emissions",
                  "party_kinds": ["firm", "organisation", "individual"], "points": 5,
                  "evidence_required": "碳票注销证明编号"},
        common | {"code": CODES[1], "description_zh": "林业碳汇项目监测报告经核证并签发",
                  "description_en": "Forest carbon project's monitoring verified and issued",
                  "party_kinds": ["firm", "organisation"], "points": 3, "evidence_required": "核证报告编号"},
    ])


def downgrade():
    op.execute("DELETE FROM credit_rules WHERE code IN ('CARBON_OFFSET_RETIRED', 'CARBON_PROJECT_VERIFIED') "
               "AND version = 1")
