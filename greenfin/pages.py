"""Helpers shared by the page blueprints of every package."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import request
from sqlalchemy import Select, func, select

from greenfin.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_of(stmt: Select, per_page: int = 25) -> Page:
    """One page of ``stmt``, the page number taken from ``?page=``."""
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)


def url_or_none(endpoint: str, **values) -> "str | None":
    """``url_for`` of a page named by its endpoint (a job's subject, an audit event's target), or None
    when the endpoint is not in this app (its package is not loaded)."""
    from flask import url_for
    from werkzeug.routing import BuildError

    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def follow_job(job_id: str):
    """After a page started a background job: say so, and go to the job's page (progress, result,
    and a link back to what it works on)."""
    from flask import flash, redirect, url_for
    from flask_babel import gettext as _

    flash(_("Started in the background: this page shows its progress and links to the result."), "success")
    return redirect(url_for("core.job_detail", job_id=job_id))
