"""Weather-index insurance for orchards and forests: index products, station weather, policies on
parcels, automatic claims from a daily evaluation, payouts to the lender of a pledged parcel
(through lending's contract, so they reach the pools' servicer reports), premium backtests and
public payout events."""
from flask import Flask


def init_app(app: Flask) -> None:
    from greenfin.insurance import models  # noqa: F401  (models registered for migrations)
