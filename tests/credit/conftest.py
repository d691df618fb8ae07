"""Fixtures of the eco-credit tests."""
from __future__ import annotations

import secrets

import pytest

from credit import services
from greenfin.extensions import db


@pytest.fixture
def post(create_user):
    """Post points under a rule at once (no review): ``post(party, "GREEN_TREE_PLANTING")``."""

    def factory(party, rule_code, key=None, **kwargs):
        result = services.submit_posting(party.id, rule_code, idempotency_key=key or secrets.token_hex(8),
                                         review=False, **kwargs)
        db.session.commit()
        return result.posting

    return factory


@pytest.fixture
def regulators(create_user):
    return create_user("regulator"), create_user("regulator")
