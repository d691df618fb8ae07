"""Helpers shared by the API blueprints of every package."""
from __future__ import annotations

from functools import wraps

from flask import Flask
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from greenfin.errors import N_, ValidationFailed
from greenfin.extensions import db
from greenfin.json_input import BODY, NotJson, load_request_json
from greenfin.uow import flush_for_response


def paginate(stmt: Select, pagination_parameters) -> list:
    """Run ``stmt`` for one page and tell flask-smorest the total (X-Pagination header)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    return list(
        db.session.scalars(stmt.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item))
    )


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser with one more location, ``multipart``: the form fields and the files of
    one multipart/form-data body, loaded by one schema (an upload with its options)."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def _raw_load_json(self, req):
        """The body of an operation that declares one: required, JSON, and for PATCH not empty."""
        data = req.get_data(cache=True)
        if not data.strip():
            raise ValidationFailed("A request body is required", {BODY: [N_("a JSON request body is required")]})
        if not is_json_request(req):
            raise NotJson(N_("send the body as application/json"))
        value = load_request_json(data)
        if req.method == "PATCH" and value == {}:
            raise ValidationFailed("Nothing to change", {BODY: [N_("give at least one field to change")]})
        return value

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint, documenting X-Pagination as what it is on the wire: a JSON string."""

    ARGUMENTS_PARSER = ArgumentsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    def response(self, status_code, schema=None, **kwargs):
        """flask-smorest's response decorator; the work is flushed before the answer is serialised
        (the unit of work commits after it: greenfin/uow.py)."""
        serialise = super().response(status_code, schema, **kwargs)

        def decorator(func):
            @wraps(func)
            def flushed(*args, **kw):
                result = func(*args, **kw)
                flush_for_response()
                return result

            return serialise(flushed)

        return decorator

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata as JSON: total, total_pages, first_page, last_page, page, "
                           "previous_page, next_page",
            "schema": {"type": "string"},
        }


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest blueprint mounted under /api/v1."""
    return ApiBlueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)


def decimal_as_string(self, field, **kwargs) -> dict:
    """Money and coordinates travel as strings (``fields.Decimal(as_string=True)``): document them so."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
    return {}


def init_api_docs(app: Flask) -> None:
    from greenfin.extensions import api

    api.ma_plugin.converter.add_attribute_function(decimal_as_string)



def serve_own_api_document(app: Flask) -> None:
    """The app serves the OpenAPI document it was built with.

    ``greenfin.extensions.api`` is one object for every app a process builds, and each
    ``create_app`` gives it a new document; without this, an app built later in the same process
    (a test's, even one refused half-way at start) would change what an earlier app serves."""
    from greenfin.extensions import api

    spec = api.spec

    def openapi_json():  # as flask-smorest's own view, with this app's document
        return app.response_class(app.json.dumps(spec.to_dict(), indent=2), mimetype="application/json")

    app.view_functions["api-docs.openapi_json"] = openapi_json


def mark_public_operations(app: Flask) -> None:
    """Operations open to anonymous callers say so in the OpenAPI document (``security: []``)."""
    import re

    from greenfin.extensions import api
    from greenfin.security import PUBLIC, declared_access

    paths = api.spec._paths  # apispec keeps the registered paths here until the document is built
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method, operation in paths.get(path, {}).items():
            if isinstance(operation, dict) and PUBLIC in (declared_access(app, rule.endpoint, method.upper()) or ()):
                operation["security"] = []
