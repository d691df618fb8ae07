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


def navigation(role: str, endpoint: str | None, path: str | None = None) -> list[dict]:
    """The two-level navigation of one role: the top bar's entries in order, each either a link
    (``endpoint``) or a group (``items``, at least two links); ``active`` marks the entry holding the
    current page (its endpoint, else the link whose address is the longest prefix of ``path``: a
    loan's page belongs to the loans), whose links form the second level."""
    from flask import current_app, url_for

    app = current_app
    groups = app.extensions.get("greenfin_nav_groups", {})
    entries: list[dict] = []
    by_group: dict[str, dict] = {}
    for item in app.extensions["greenfin_nav"]:
        if role not in item["roles"]:
            continue
        key = item.get("group")
        if key and key in groups:
            if key not in by_group:
                by_group[key] = {"key": key, "label": groups[key], "items": []}
                entries.append(by_group[key])
            by_group[key]["items"].append(item)
        else:
            entries.append({"key": item["endpoint"], "label": item["label"], "items": [item]})
    active = next((e for e in entries if any(i["endpoint"] == endpoint for i in e["items"])), None)
    if active is None and path:
        prefixes = [(len(url), e) for e in entries for i in e["items"]
                    if (url := url_for(i["endpoint"]).rstrip("/")) and (path == url or path.startswith(url + "/"))]
        active = max(prefixes, key=lambda p: p[0])[1] if prefixes else None
    for entry in entries:
        entry["active"] = entry is active
        if len(entry["items"]) == 1:
            entry["endpoint"] = entry["items"][0]["endpoint"]
            entry["label"] = entry["items"][0]["label"]
    return entries


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
