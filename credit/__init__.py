"""Eco-credit points ledger and four-colour ratings (生态信用积分, 环保信用评价)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from credit import models  # noqa: F401  (models registered for migrations)
