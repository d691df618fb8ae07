"""The demo district gives the regulators' review of serial guessing something to show."""
import pytest
from sqlalchemy import select

from greenfin.core import services as core_services
from greenfin.core.models import User
from greenfin.extensions import db

pytestmark = pytest.mark.no_db_isolation  # reads the demo database, not the test transaction


def test_demo_district_has_a_guessing_episode_for_the_review(demo_app):
    """One flag, its product and lot named, counted from the episode's scan records."""
    with demo_app.app_context():
        regulator = db.session.scalar(select(User).where(User.role == "regulator"))
        _token, plain = core_services.issue_token(regulator, "demo-review")
        db.session.commit()
    response = demo_app.test_client().get("/api/v1/trace/enumeration-flags",
                                          headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    [flag] = response.json
    assert flag["client"] == "203.0.113.45" and flag["network"] == "203.0.113.0/24"
    assert flag["unrecognised_codes"] == 14  # the episode's scan records, not only the 10 that raised it
    assert flag["product"] == "马家柚鲜果 5kg 礼盒" and flag["lot_id"] is not None


def test_demo_district_has_a_renewed_brand_authorisation(demo_app):
    """A grower whose first period lapsed holds a renewal: two periods, authorised today."""
    from greenfin.core.models import Party
    from traceability import services
    from traceability.models import Brand, BrandAuthorisation

    with demo_app.app_context():
        brand = db.session.scalar(select(Brand).where(Brand.name == "马家柚"))
        grower = db.session.scalar(select(Party).where(Party.name == "刘春梅"))
        periods = db.session.scalars(select(BrandAuthorisation).where(
            BrandAuthorisation.brand_id == brand.id, BrandAuthorisation.party_id == grower.id)
            .order_by(BrandAuthorisation.valid_from)).all()
        assert len(periods) == 2 and not periods[0].active_on(services.today())
        assert services.brand_authorised(brand.id, grower.id)
