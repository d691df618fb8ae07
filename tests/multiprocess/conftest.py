"""Real stacks for the multi-process tests: gunicorn workers and rq workers on PostgreSQL and Redis."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from greenfin.core import services
from greenfin.extensions import db
from greenfin.stack import running_stack
from tests.conftest import migrated_app, reset_postgres, using_postgres, using_redis

pytestmark = pytest.mark.multiprocess
STACK_REDIS = "redis://127.0.0.1:6379/13"


@contextmanager
def own_stack(tmp_path_factory, name: str, redis_url: str, prefix: str, roles: tuple[str, ...], web_workers: int = 2):
    """A fresh database ``name`` and Redis db, users ``<prefix>-<role>`` with API tokens, and a running stack."""
    if not (using_postgres() and using_redis()):
        pytest.skip("the multi-process tests run on PostgreSQL and Redis (make test's second pass)")
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    url = reset_postgres(name)
    instance = tmp_path_factory.mktemp(f"{name}-instance")
    app = migrated_app(url, instance=instance, REDIS_URL=redis_url)
    tokens = {}
    with app.app_context():
        services.ensure_townships()
        for role in roles:
            user = services.create_user({"username": f"{prefix}-{role}", "role": role, "password": "stack-password-1"})
            tokens[role] = services.issue_token(user, prefix)[1]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with running_stack(url, redis_url, instance, web_workers=web_workers) as base_url:
        yield {"url": base_url, "tokens": tokens, "app": app, "database_url": url, "instance": instance,
               "redis_url": redis_url, "redis": Redis.from_url(redis_url)}
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """2 gunicorn processes and 2 rq workers, shared by the session's multi-process tests."""
    with own_stack(tmp_path_factory, "greenfin_test_stack", STACK_REDIS, "stack",
                   ("admin", "loan_officer", "regulator")) as s:
        yield s
