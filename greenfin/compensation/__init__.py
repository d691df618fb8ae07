"""GEP at work: eco-compensation schemes and runs (budget split, water-quality bet, per hectare,
eco-jobs), the honest split of a change in GEP into a quantity and a price effect."""
from flask import Flask


def init_app(app: Flask) -> None:
    from greenfin.compensation import models  # noqa: F401  (models registered for migrations)
