"""Forest carbon-sink registry (林业碳票): projects on forest parcels, verified monitoring reports,
serial unit blocks issued with a buffer share, and an insert-only, hash-chained unit ledger of
transfers, pledges to loans, releases, enforcements and retirements (docs/carbon.md)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from greenfin.carbon import models  # noqa: F401  (models registered for migrations)
    from greenfin.carbon import receivers

    receivers.connect(app)


def seed_demo(rng, context):
    from greenfin.carbon.seed import seed_demo as seed

    return seed(rng, context)
