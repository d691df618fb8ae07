"""A real stack for the multi-process tests: 2 gunicorn workers and 2 rq workers on PostgreSQL and Redis."""
from __future__ import annotations

import pytest

from greenfin.core import services
from greenfin.extensions import db
from greenfin.stack import running_stack
from tests.conftest import migrated_app, reset_postgres, using_postgres, using_redis

pytestmark = pytest.mark.multiprocess
STACK_REDIS = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not (using_postgres() and using_redis()):
        pytest.skip("the multi-process tests run on PostgreSQL and Redis (make test's second pass)")
    from redis import Redis

    Redis.from_url(STACK_REDIS).flushdb()
    url = reset_postgres("greenfin_test_stack")
    instance = tmp_path_factory.mktemp("stack-instance")
    app = migrated_app(url, instance=instance, REDIS_URL=STACK_REDIS)
    tokens = {}
    with app.app_context():
        services.ensure_townships()
        for role in ("admin", "loan_officer", "regulator"):
            user = services.create_user({"username": f"stack-{role}", "role": role, "password": "stack-password-1"})
            tokens[role] = services.issue_token(user, "stack")[1]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with running_stack(url, STACK_REDIS, instance) as base_url:
        yield {"url": base_url, "tokens": tokens, "app": app, "database_url": url, "instance": instance,
               "redis_url": STACK_REDIS}
