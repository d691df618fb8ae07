"""GEP (生态产品总值) accounting per land parcel: versioned parameters and prices, vectorised
accounts, township and district totals, collateral valuation and the scan-page summary."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin.gep import models  # noqa: F401  (models registered for migrations)
