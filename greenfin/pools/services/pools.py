"""Pools themselves: find, list, create and update (criteria and structure validated)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Select, select

from greenfin.core.models import Party
from greenfin.core.services import record_audit, snapshot
from greenfin.errors import N_, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.pools.eligibility import validate_criteria
from greenfin.pools.models import DESIGNATIONS, Pool
from greenfin.pools.validation import validate_structure
from greenfin.security import current_actor

POOL_FIELDS = ("code", "name", "originator_id", "green_designation", "description", "criteria", "structure")


def get_pool(pool_id: int) -> Pool:
    pool = db.session.get(Pool, pool_id)
    if pool is None:
        raise NotFound(N_("pool not found"), {"pool_id": [f"no pool with id {pool_id}"]})
    return pool


def pool_query(q: Optional[str] = None) -> Select:
    stmt = select(Pool).order_by(Pool.id.desc())
    if q:
        stmt = stmt.where(Pool.name.contains(q) | Pool.code.contains(q))
    return stmt


def _check_pool_fields(data: dict, errors: dict, existing: Optional[Pool] = None) -> None:
    if "code" in data or existing is None:
        code = (data.get("code") or "").strip()
        if not code or len(code) > 32:
            errors["code"] = [N_("is required (at most 32 characters)")]
        elif db.session.scalar(select(Pool.id).where(Pool.code == code, Pool.id != (existing.id if existing else 0))):
            errors["code"] = [N_("a pool with this code already exists")]
    if "name" in data or existing is None:
        if not (data.get("name") or "").strip():
            errors["name"] = [N_("is required")]
    if "originator_id" in data or existing is None:
        if db.session.get(Party, data.get("originator_id") or 0) is None:
            errors["originator_id"] = [N_("unknown party")]
    if "green_designation" in data and data["green_designation"] not in DESIGNATIONS:
        errors["green_designation"] = [N_("must be green, transition or none")]


def create_pool(data: dict) -> Pool:
    errors: dict[str, list[str]] = {}
    _check_pool_fields(data, errors)
    criteria = structure = None
    try:
        criteria = validate_criteria(data.get("criteria"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        structure = validate_structure(data.get("structure"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(N_("Invalid pool"), errors)
    actor = current_actor()
    pool = Pool(code=data["code"].strip(), name=data["name"].strip(), originator_id=data["originator_id"],
                green_designation=data.get("green_designation") or "green", description=data.get("description"),
                criteria=criteria, structure=structure, created_by_id=actor.id if actor else None)
    db.session.add(pool)
    db.session.flush()
    record_audit("pool.create", "pool", pool.id, after=snapshot(pool, POOL_FIELDS))
    return pool


def update_pool(pool: Pool, data: dict) -> Pool:
    errors: dict[str, list[str]] = {}
    _check_pool_fields(data, errors, pool)
    changes = {k: v for k, v in data.items() if k in POOL_FIELDS}
    for key, fn in (("criteria", validate_criteria), ("structure", validate_structure)):
        if key in changes:
            try:  # a partial change keeps the pool's other settings
                changes[key] = fn(dict(getattr(pool, key) or {}) | dict(changes[key] or {}))
            except ValidationFailed as exc:
                errors.update(exc.errors)
    if errors:
        raise ValidationFailed(N_("Invalid pool"), errors)
    before = snapshot(pool, POOL_FIELDS)
    for key, value in changes.items():
        setattr(pool, key, value.strip() if isinstance(value, str) and key in ("code", "name") else value)
    db.session.flush()
    record_audit("pool.update", "pool", pool.id, before=before, after=snapshot(pool, POOL_FIELDS))
    return pool
