"""REST API of traceability: brands, products, lots, events, certificates, labels, scans, tracing."""
from __future__ import annotations

from decimal import Decimal

from flask import request
from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.errors import ErrorSchema, ValidationFailed
from greenfin.security import access, current_actor, own_party_id, require_party_access
from traceability import schemas, services

blp = api_blueprint("trace_api", __name__, "/trace", "Traceability: brands, products, lots, EPCIS events, "
                    "certificates, labels, scans, recall and tracing")
ALL = ("admin", "regulator", "producer")


def _lot(lot_id):
    return services.get_lot(lot_id, scope=own_party_id())


@blp.route("/brands")
class Brands(MethodView):
    @access(*ALL, "loan_officer")
    @blp.response(200, schemas.TraceBrandSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(services.brand_query(), pagination_parameters)

    @access("admin", "regulator")
    @blp.arguments(schemas.TraceBrandSchema)
    @blp.response(201, schemas.TraceBrandSchema)
    def post(self, data):
        """Register a brand (e.g. 马家柚 with its GI registration and protected region)."""
        brand = services.create_brand(data)
        return brand


@blp.route("/brands/<int:brand_id>/authorisations")
class BrandAuthorisations(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.TraceAuthorisationSchema(many=True))
    def get(self, brand_id):
        """The brand's authorisations, revoked and lapsed ones included, by producer and period."""
        return services.brand_authorisations(brand_id)

    @access("admin", "regulator")
    @blp.arguments(schemas.TraceAuthorisationSchema)
    @blp.response(201, schemas.TraceAuthorisationSchema)
    def post(self, data, brand_id):
        """Authorise a producer to use the brand for a period; renewing one is a new, later period
        (409 if it overlaps one that stands)."""
        auth = services.authorise_brand(brand_id, data["party_id"], data["valid_from"], data.get("valid_until"))
        return auth


@blp.route("/brands/<int:brand_id>/authorisations/<int:auth_id>/revoke")
class BrandAuthorisationRevoke(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.TraceRevokeSchema)
    @blp.response(200, schemas.TraceAuthorisationSchema)
    def post(self, data, brand_id, auth_id):
        """Revoke a producer's authorisation (kept on record with the reason)."""
        auth = services.revoke_brand_authorisation(services.get_brand_authorisation(brand_id, auth_id), data["reason"])
        return auth


@blp.route("/products")
class Products(MethodView):
    @access(*ALL)
    @blp.response(200, schemas.TraceProductSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(services.product_query(own_party_id()), pagination_parameters)

    @access("admin", "producer")
    @blp.arguments(schemas.TraceProductSchema)
    @blp.response(201, schemas.TraceProductSchema)
    def post(self, data):
        """Register a product with its GTIN (GS1 check digit verified)."""
        require_party_access(data["owner_id"])
        product = services.create_product(data)
        return product


@blp.route("/lots")
class Lots(MethodView):
    @access(*ALL)
    @blp.arguments(schemas.TraceLotQueryArgsSchema, location="query")
    @blp.response(200, schemas.TraceLotDumpSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        return paginate(services.lot_query(own_party_id(), **args), pagination_parameters)

    @access("admin", "producer")
    @blp.arguments(schemas.TraceLotSchema)
    @blp.response(201, schemas.TraceLotDumpSchema)
    def post(self, data):
        """Register a lot with its origin parcels."""
        require_party_access(data["producer_id"])
        lot = services.create_lot(data, scope=own_party_id())
        return lot


@blp.route("/lots/<int:lot_id>")
class LotById(MethodView):
    @access(*ALL)
    @blp.response(200, schemas.TraceLotDumpSchema)
    def get(self, lot_id):
        return _lot(lot_id)


@blp.route("/lots/<int:lot_id>/recall")
class LotRecall(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.TraceRecallSchema)
    @blp.response(200, schemas.TraceLotDumpSchema)
    def post(self, data, lot_id):
        """Recall a lot: every scan of its labels shows the notice from now on."""
        lot = services.recall_lot(services.get_lot(lot_id), data["reason"], actor_id=current_actor().id)
        return lot


@blp.route("/lots/<int:lot_id>/events")
class LotEvents(MethodView):
    @access(*ALL)
    @blp.response(200, schemas.TraceEventSchema(many=True))
    @blp.paginate()
    def get(self, lot_id, pagination_parameters):
        _lot(lot_id)
        return paginate(services.event_query(lot_id=lot_id), pagination_parameters)

    @access("admin", "producer")
    @blp.arguments(schemas.TraceEventCreateSchema)
    @blp.response(201, schemas.TraceEventSchema)
    def post(self, data, lot_id):
        """Record a business step as an EPCIS 2.0 event (event-hash ID)."""
        lot = _lot(lot_id)
        row = services.record_event(lot, data.pop("kind"), data)
        return row


@blp.route("/transformations")
class Transformations(MethodView):
    @access("admin", "producer")
    @blp.arguments(schemas.TraceTransformSchema)
    @blp.response(201, schemas.TraceEventSchema)
    def post(self, data):
        """Processing (pomelo into tea or candied peel): input lots -> the output lot."""
        output = _lot(data["output_lot_id"])
        inputs = []
        for item in data["inputs"]:
            try:
                inputs.append((_lot(int(item["lot_id"])), Decimal(str(item["quantity"]))))
            except (KeyError, TypeError, ValueError, ArithmeticError):
                raise ValidationFailed.field("inputs", "each input has lot_id and quantity") from None
        row = services.transform_lot(inputs, output, data)
        return row


@blp.route("/lots/<int:lot_id>/trace")
class LotTrace(MethodView):
    @access(*ALL)
    @blp.response(200, schemas.TraceResultSchema)
    def get(self, lot_id):
        """Backward (parcels, input lots) and forward (shipments, lots made from it)."""
        return services.trace_lot(_lot(lot_id))


@blp.route("/lots/<int:lot_id>/scan-stats")
class LotScanStats(MethodView):
    @access(*ALL)
    @blp.response(200, schemas.TraceScanStatsSchema)
    def get(self, lot_id):
        """Scans per day (last 30 days), by region and by verdict."""
        _lot(lot_id)
        return services.scan_statistics(lot_id)


@blp.route("/lots/<int:lot_id>/label-batches")
class LotLabelBatches(MethodView):
    @access(*ALL)
    @blp.response(200, schemas.TraceLabelBatchSchema(many=True))
    @blp.paginate()
    def get(self, lot_id, pagination_parameters):
        _lot(lot_id)
        return paginate(services.batch_query(lot_id=lot_id), pagination_parameters)

    @access("admin", "producer")
    @blp.arguments(schemas.TraceLabelBatchCreateSchema)
    @blp.response(202, schemas.TraceLabelBatchSchema)
    @blp.alt_response(429, schema=ErrorSchema, description="The producer's daily label quota is used up")
    def post(self, data, lot_id):
        """Issue serialised labels and draw the sheet in a job; follow /api/v1/jobs/<job_id>.
        Producers are held to a daily quota (TRACE_LABELS_PER_DAY labels a business day)."""
        lot = _lot(lot_id)
        batch = services.start_label_sheet(lot, data["count"], data["layout"],
                                           title=f"Labels {lot.code} ({data['count']})",
                                           created_by_id=current_actor().id, scope=own_party_id())
        return batch


@blp.route("/certifications")
class Certifications(MethodView):
    @access(*ALL, "loan_officer")
    @blp.response(200, schemas.TraceCertificationSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(services.certification_query(own_party_id()), pagination_parameters)

    @access("admin", "regulator")
    @blp.arguments(schemas.TraceCertificationSchema)
    @blp.response(201, schemas.TraceCertificationSchema)
    def post(self, data):
        """Record a certificate (posts TRACE_CERT_GRANTED eco-credit points)."""
        cert = services.grant_certification(data)
        return cert


@blp.route("/certifications/<int:cert_id>/revoke")
class CertificationRevoke(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.TraceRevokeSchema)
    @blp.response(200, schemas.TraceCertificationSchema)
    def post(self, data, cert_id):
        """Revoke a certificate (posts TRACE_CERT_LAPSED eco-credit points)."""
        cert = services.revoke_certification(services.get_certification(cert_id), data["reason"])
        return cert


@blp.route("/enumeration-flags")
class EnumerationFlags(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.TraceEnumerationFlagQueryArgsSchema, location="query")
    @blp.response(200, schemas.TraceEnumerationFlagSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Suspected serial guessing on the public scan route, newest first (regulators and admins)."""
        return services.enumeration_flags(paginate(services.enumeration_flag_query(**args), pagination_parameters))


@blp.route("/enumeration-flags/<int:flag_id>/acknowledge")
class EnumerationFlagAcknowledge(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.TraceFlagAcknowledgeSchema)
    @blp.response(200, schemas.TraceEnumerationFlagSchema)
    def post(self, data, flag_id):
        """Acknowledge a serial-guessing flag with a note (an audit event on the flag)."""
        services.acknowledge_flag(flag_id, data["note"])
        return services.enumeration_flags([services.get_flag(flag_id)])[0]


@blp.route("/network-blocks")
class NetworkBlocks(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.TraceNetworkBlockSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Client networks barred from scanning, newest first (those over or lifted too)."""
        return paginate(services.block_query(), pagination_parameters)

    @access("admin", "regulator")
    @blp.arguments(schemas.TraceNetworkBlockCreateSchema)
    @blp.response(201, schemas.TraceNetworkBlockSchema)
    def post(self, data):
        """Bar a client network from the scan route for 1, 7, 30 or 90 days: its scans are answered
        "paused" (429) and not checked. With flag_id the flag's network is blocked and the flag acknowledged."""
        return services.block_network(data.get("network") or "", data["days"], data["note"],
                                      flag_id=data.get("flag_id"), actor_id=current_actor().id)


@blp.route("/network-blocks/<int:block_id>/lift")
class NetworkBlockLift(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.TraceNetworkBlockLiftSchema)
    @blp.response(200, schemas.TraceNetworkBlockSchema)
    def post(self, data, block_id):
        """End a block before its time: the network's scans are checked again."""
        return services.lift_block(block_id, data["note"], actor_id=current_actor().id)


@blp.route("/epcis/capture")
class EpcisCapture(MethodView):
    @access("admin", "regulator", "producer")
    @blp.response(201, schemas.TraceCaptureSchema)
    @blp.alt_response(202, schema=schemas.TraceCaptureSchema, success=True,
                      description="More than TRACE_CAPTURE_INLINE_MAX events: stored by a job")
    def post(self):
        """Capture an EPCIS 2.0 JSON-LD document, all or nothing and idempotent (event-hash IDs).

        Refused (422, errors by field path) when invalid or when it names a lot that is not the
        producer's. A document of more than TRACE_CAPTURE_INLINE_MAX events answers 202 with the
        job that stores it; follow /api/v1/jobs/<job_id>."""
        document = request.get_json(silent=True)
        if document is None:
            raise ValidationFailed.field("document", "send the EPCIS document as JSON")
        result = services.capture_epcis(document, scope=own_party_id(), created_by_id=current_actor().id)
        return (result, 202) if "job_id" in result else result
