"""REST API of the market (``/api/v1/market``): the public catalogue and the regulators' coverage."""
from __future__ import annotations

from flask.views import MethodView

from greenfin.api_utils import api_blueprint
from greenfin.market import schemas, services
from greenfin.ratelimit import rate_limited
from greenfin.security import PUBLIC, access

blp = api_blueprint("market_api", __name__, "/market", "Eco-product catalogue and its coverage")


@blp.route("/catalogue")
class Catalogue(MethodView):
    @access(PUBLIC)
    @rate_limited("catalogue", 60, 60)
    @blp.arguments(schemas.CatalogueQueryArgsSchema, location="query")
    @blp.response(200, schemas.CatalogueEntrySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The public eco-product catalogue: one entry per lot and origin parcel; filters by township,
        product, certificate kind (valid today) and text. An unknown filter value is a 422 naming it."""
        entries = services.catalogue(**args, figures=False)
        pagination_parameters.item_count = len(entries)
        return services.add_figures(entries[pagination_parameters.first_item:pagination_parameters.first_item
                                            + pagination_parameters.page_size])


@blp.route("/coverage")
class Coverage(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.CoverageSchema)
    def get(self):
        """Which parcels with a GEP account have catalogue entries (regulators)."""
        return services.coverage()
