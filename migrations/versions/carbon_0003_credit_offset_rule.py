"""credit: the rule that prices retiring carbon units to offset one's own emissions

Revision ID: carbon_0003
Revises: credit_0006
Create Date: 2026-12-07 04:15:00

The carbon registry announces ``carbon_units_retired`` when a holder retires units on its own
behalf; credit's receiver posts ``CARBON_OFFSET_RETIRED`` (reviewable in the rule catalogue and
corrected, like every event posting, by a regulator's reversal).
"""
from datetime import date

from alembic import op
import sqlalchemy as sa

revision = 'carbon_0003'
down_revision = 'credit_0006'
branch_labels = None
depends_on = None

CODE = "CARBON_OFFSET_RETIRED"


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
    op.bulk_insert(rules, [{
        "code": CODE, "version": 1, "effective_from": date(2024, 1, 1), "effective_to": None, "category": "event",
        "description_zh": "注销林业碳票抵消自身排放", "description_en": "Forest carbon units retired to offset own emissions",
        "party_kinds": ["firm", "organisation", "individual"], "points": 5, "evidence_required": "碳票注销证明编号",
        "legal_basis": "GreenFin 林业碳汇登记簿", "display_months": 12, "veto": False, "created_at": utcnow(),
        "created_by": "catalogue"}])


def downgrade():
    op.execute(f"DELETE FROM credit_rules WHERE code = '{CODE}' AND version = 1")
