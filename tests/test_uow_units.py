"""greenfin.uow.units: the one way a CLI command commits part of its work before it ends."""
from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from greenfin.core.models import Township
from greenfin.extensions import db
from greenfin.uow import units


@settings(max_examples=50, deadline=None)
@given(items=st.lists(st.integers(), max_size=30), size=st.integers(1, 7))
def test_units_yields_every_item_once_in_order(items, size):
    commits = []
    with patch("greenfin.uow.commit", lambda: commits.append(1)):
        chunks = list(units(items, size))
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1]) and all(0 < len(c) <= size for c in chunks)
    assert len(commits) == len(chunks)


def test_units_commits_each_chunk_and_not_the_failing_one(app):
    def count() -> int:
        db.session.rollback()
        return db.session.scalar(select(func.count()).select_from(Township).where(Township.code.like("unit%")))

    with pytest.raises(RuntimeError):
        for chunk in units(range(5), 2):
            for n in chunk:
                db.session.add(Township(code=f"unit{n}", name_zh=f"单元{n}", name_en=f"Unit {n}", kind="town", lat=28, lon=118))
            if 4 in chunk:
                raise RuntimeError("the third chunk fails")
    assert count() == 4  # the first two chunks were committed, the failing one was not


def test_units_refuses_size_zero(app):
    with pytest.raises(ValueError):
        list(units([1], 0))
