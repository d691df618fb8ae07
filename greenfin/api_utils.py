"""Helpers shared by the API blueprints of every package."""
from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import Select, func, select

from greenfin.extensions import db
from greenfin.errors import error_body


def paginate(stmt: Select, pagination_parameters) -> list:
    """Run ``stmt`` for one page and tell flask-smorest the total (X-Pagination header)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    return list(
        db.session.scalars(stmt.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item))
    )


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest blueprint under /api/v1 that documents the common error responses."""
    return Blueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)


ERROR_EXAMPLE = error_body(422, "validation_error", "Invalid input", {"field": ["message"]})
