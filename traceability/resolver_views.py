"""The GS1 resolver's answers (traceability/resolver.py has the rules): a label's linkset and
link-type redirects, the lot-level targets they point at, and ``/.well-known/gs1resolver``.

The targets are public and lot-level (``/trace/public/lots/<id>...``): the facts of a lot that the
public catalogue shows anyway, without personal identifiers (``services.lot_open_view``). None of
these answers records a consumer's scan."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup
from flask_babel import gettext as _

from greenfin.ratelimit import rate_limited
from greenfin.replica import public_reads
from greenfin.security import PUBLIC, access
from traceability import digital_link as dl
from traceability import labels
from traceability import resolver, services

resolver_bp = Blueprint("trace_resolver", __name__)


def _external(endpoint: str, **values) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, **values)


def _targets(lot_id: int) -> dict[str, str]:
    return {"gs1:pip": _external("trace_resolver.lot_page", lot_id=lot_id),
            "gs1:certificationInfo": _external("trace_resolver.lot_certifications", lot_id=lot_id),
            "gs1:traceability": _external("trace_resolver.lot_traceability", lot_id=lot_id),
            "gs1:recallStatus": _external("trace_resolver.lot_recall", lot_id=lot_id)}


def _titles() -> dict[str, str]:
    return {"gs1:pip": _("Product information"), "gs1:certificationInfo": _("Certificates"),
            "gs1:traceability": _("Journey"), "gs1:recallStatus": _("Recall status")}


def is_link_request() -> bool:
    """A request for the linkset or one link type, rather than a consumer's scan."""
    return "linkType" in request.args or resolver.wants_linkset(None, request.accept_mimetypes)


def label_links_header(gtin: str, lot: str, serial: str) -> str:
    """The Link header of a label's answers: where its linkset is."""
    return resolver.link_header(f"{_anchor(gtin, lot, serial)}?linkType=all&s={request.args.get('s', '')}")


def _anchor(gtin: str, lot: str, serial: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/{dl.link_path(gtin, lot, serial)}"


def answer_links(gtin: str, lot: str, serial: str):
    """The scan route's answer to a linkset or link-type request (``views.scan`` asks first)."""
    try:
        link_type = resolver.parse_link_type(request.args["linkType"]) if "linkType" in request.args else None
    except resolver.UnknownLinkType as exc:
        return jsonify({"message": _("This resolver has no link type %(type)s.", type=str(exc) or "—"),
                        "link_types": ["all", resolver.DEFAULT] + list(resolver.LINK_TYPES)}), 400
    lot_id = services.resolve_label(gtin, lot, serial, request.args.get("s"))
    if lot_id is None:
        return jsonify({"message": _("This code was not issued by a registered producer."),
                        "verdict": "not_genuine"}), 404
    targets = _targets(lot_id)
    if link_type is None or link_type == resolver.ALL:
        response = current_app.response_class(
            current_app.json.dumps(resolver.linkset(_anchor(gtin, lot, serial), targets, _titles())),
            mimetype=resolver.LINKSET_TYPE)
    else:
        response = redirect(targets[link_type], code=307)
    response.headers["Link"] = label_links_header(gtin, lot, serial)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response


@resolver_bp.route("/.well-known/gs1resolver")
@access(PUBLIC)
def description():
    response = jsonify(resolver.description(current_app.config["PUBLIC_BASE_URL"], _("Guangfeng origin tracing")))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@resolver_bp.route("/trace/public/lots/<int:lot_id>")
@access(PUBLIC)
@rate_limited("resolver", 300, 60)
@public_reads
def lot_page(lot_id):
    """gs1:pip: the lot's product information page (the scan page's facts, no verdict, no scan)."""
    view = services.lot_open_view(lot_id)
    zh = _current_zh()
    title = view["product"]["name"] if zh else (view["product"]["name_en"] or view["product"]["name"])
    lot_html = render_template("traceability/_scan_lot.html", view=view, event_labels=labels.EVENT)
    if view["lot"]["recalled"]:  # the same notice as the scan page's
        recall = services.lot_recall_status(lot_id)
        lot_html = render_template("traceability/_lot_recall.html", reason=recall["reason"]) + lot_html
    return render_template("traceability/scan.html", body=Markup(lot_html), title=title, lang_url=lang_url())


def _current_zh() -> bool:
    return str(get_locale()).startswith("zh")


def lang_url() -> str:
    """This page in the other language (the scan page's and the lot page's language link)."""
    other = "en" if _current_zh() else "zh_CN"
    return request.path + "?" + urlencode(request.args.to_dict() | {"lang": other})


@resolver_bp.route("/trace/public/lots/<int:lot_id>/certifications.json")
@access(PUBLIC)
@rate_limited("resolver", 300, 60)
@public_reads
def lot_certifications(lot_id):
    """gs1:certificationInfo: the lot's certificates with their validity today."""
    view = services.lot_open_view(lot_id)
    return _json({"lot": view["lot"]["code"], "gtin": view["product"]["gtin"], "as_of": services.today().isoformat(),
                  "certifications": view["certifications"],
                  "brand": view["brand"]})


@resolver_bp.route("/trace/public/lots/<int:lot_id>/traceability.json")
@access(PUBLIC)
@rate_limited("resolver", 300, 60)
@public_reads
def lot_traceability(lot_id):
    """gs1:traceability: the lot's origin and steps (no party it was shipped to)."""
    view = services.lot_open_view(lot_id)
    return _json({"lot": view["lot"], "gtin": view["product"]["gtin"], "origin": view["origin"],
                  "events": view["events"],
                  "epcis_class": dl.lgtin(view["product"]["gtin"], view["lot"]["code"])})


@resolver_bp.route("/trace/public/lots/<int:lot_id>/recall.json")
@access(PUBLIC)
@rate_limited("resolver", 300, 60)
def lot_recall(lot_id):
    """gs1:recallStatus: whether the lot is recalled, since when and why."""
    return _json(services.lot_recall_status(lot_id))


def _json(body: dict):
    response = jsonify(body)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
