"""Factories for traceability tests."""
from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from decimal import Decimal

import pytest

from greenfin.dates import today as business_today
from greenfin.core.identifiers import gtin_check_digit
from greenfin.extensions import db
from traceability import services

_rng = random.Random()


def make_gtin() -> str:
    body = "0690" + "".join(str(_rng.randint(0, 9)) for _ in range(9))
    return body + gtin_check_digit(body)


@pytest.fixture
def create_brand():
    def factory(**overrides):
        data = {"name": f"马家柚{secrets.token_hex(3)}", "name_en": "Majia pomelo", "gi_registration": "AGI00123",
                "gi_authority": "农业农村部", "gi_region": "广丰区全境"}
        data.update(overrides)
        brand = services.create_brand(data)
        db.session.commit()
        return brand

    return factory


@pytest.fixture
def create_product(create_party, create_brand):
    def factory(owner=None, brand=None, **overrides):
        owner = owner or create_party()
        if brand is None:
            brand = create_brand()
            services.authorise_brand(brand.id, owner.id, business_today() - timedelta(days=365))
        data = {"gtin": make_gtin(), "name": "马家柚鲜果 5kg 礼盒", "name_en": "Majia pomelo gift box 5 kg",
                "owner_id": owner.id, "brand_id": brand.id if brand else None, "net_content": "5 kg"}
        data.update(overrides)
        product = services.create_product(data)
        db.session.commit()
        return product

    return factory


# Before the dates the EPCIS tests give their events: no step of a lot may precede its harvest
# date (traceability/services/event_rules.py).
HARVEST_DATE = date(2026, 9, 15)


@pytest.fixture
def create_lot(create_product, create_parcel):
    """A lot of a branded product from one orchard of its producer."""

    def factory(product=None, producer=None, parcels=None, **overrides):
        product = product or create_product(owner=producer)
        producer_id = (producer.id if producer else product.owner_id)
        if parcels is None:
            parcels = [create_parcel(holder_id=producer_id, name="古村柚园")]
        data = {"code": f"MJY{secrets.token_hex(3).upper()}", "product_id": product.id, "producer_id": producer_id,
                "harvest_date": HARVEST_DATE, "quantity": Decimal("1200"), "unit": "KGM",
                "parcel_ids": [p.id for p in parcels]}
        data.update(overrides)
        lot = services.create_lot(data)
        db.session.commit()
        return lot

    return factory


@pytest.fixture
def issue_labels():
    """Issue ``count`` labels for a lot; returns the batch."""

    def factory(lot, count=10, layout="a4-3x8"):
        batch = services.create_label_batch(lot, count, layout)
        services.issue_labels(batch)
        db.session.commit()
        return batch

    return factory


@pytest.fixture
def edge_proxy(app, monkeypatch):
    """The app behind an edge proxy at 127.0.0.1 (the test client's address) that sets
    X-Forwarded-For and the X-Geo-* headers: ``edge_proxy(client_ip, region=..., lat=..., lon=...)``
    gives a request's headers as the proxy passes them on."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setitem(app.config, "TRACE_GEO_PROXIES", "127.0.0.1")
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))

    def headers(client_ip, region=None, lat=None, lon=None, **extra):
        out = {"X-Forwarded-For": client_ip, **extra}
        if region is not None:
            out["X-Geo-Region"] = region
        if lat is not None:
            out.update({"X-Geo-Lat": str(lat), "X-Geo-Lon": str(lon)})
        return out

    return headers


def epcis_document(*events) -> dict:
    """An EPCISDocument holding ``events``."""
    from traceability import epcis

    return {"@context": epcis.CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-01T00:00:00Z", "epcisBody": {"eventList": list(events)}}


def observe(epc_class: str, **overrides) -> dict:
    """An ObjectEvent OBSERVE of a quantity of ``epc_class`` (an LGTIN)."""
    event = {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
             "eventTime": "2026-11-01T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
             "quantityList": [{"epcClass": epc_class, "quantity": 100, "uom": "KGM"}]}
    event.update(overrides)
    return event
