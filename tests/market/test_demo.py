"""The seeded demo district's market: buyers (a public canteen with the 30 % quota), offers, two
orders delivered with traced shipping and receiving events, one placed, one offer refused because
the grower's GI authorisation lapsed."""
import pytest
from sqlalchemy import select

from greenfin.core.models import AuditEvent, User
from greenfin.extensions import db
from greenfin.market import services
from traceability import services as trace

pytestmark = pytest.mark.no_db_isolation


def test_demo_market(demo_app):
    with demo_app.app_context():
        buyers = db.session.scalars(services.buyer_query()).all()
        assert sorted(b.kind for b in buyers) == ["canteen", "processor", "retailer"]
        canteen = next(b for b in buyers if b.kind == "canteen")
        assert canteen.public and canteen.quota_share == 30
        assert db.session.scalar(select(User.role).where(User.username == "buyer")) == "buyer"
        orders = db.session.scalars(services.order_query()).all()
        seeded = [o for o in orders if o.id <= 3]  # (the browser test adds its own order to the shared demo)
        assert sorted(o.status for o in seeded) == ["placed", "received", "received"]
        for order in (o for o in seeded if o.status == "received"):
            kinds = {e.event_hash: e.kind for e in trace.lot_events(order.lot_id)}
            assert kinds[order.shipping_event] == "shipping" and kinds[order.receiving_event] == "receiving"
            assert len(order.received_serials) == 6
        refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "market.offer.refuse")).all()
        assert len(refused) == 1 and "lapsed" in refused[0].after["reasons"]["lot_id"][0]
        assert "buyer" in demo_app.config["SEED_OUTPUT"]
        dashboard = [r for r in services.procurement() if r["buyer_id"] == canteen.party_id]
        seeded_amount = next(o.amount for o in seeded if o.buyer_id == canteen.party_id)
        assert dashboard[0]["eco_amount"] >= seeded_amount and dashboard[0]["total_amount"] == 15000
        db.session.remove()
