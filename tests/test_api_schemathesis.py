"""Fuzz the REST API from its own OpenAPI document with schemathesis.

Every operation gets a bounded number of generated requests, schema-valid (positive) and
schema-invalid (negative), sent with an admin token and with a producer token. All of
schemathesis' checks run (no 5xx, status code, content type, headers and body as documented,
invalid data refused, ...) plus ours: a 422 names the fields at fault. One check is left out:
``positive_data_acceptance``, because schema-valid is not business-valid (a credit code with a
wrong check character is a well-formed string, and a 4xx is right there); for negative data also
``negative_data_rejection`` (see ``EXCLUDED``). Operations that
declare a required body are also sent none, and must refuse it.

Driven through Hypothesis directly (schemathesis' pytest plugin does not support pytest 9 yet).
``GREENFIN_FUZZ_EXAMPLES`` raises the examples per operation and mode for a longer run;
``GREENFIN_FUZZ_ONLY`` (a path fragment) fuzzes one area while debugging.
"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from sqlalchemy import text

from greenfin.core import services
from greenfin.extensions import db

EXAMPLES_PER_OPERATION = int(os.environ.get("GREENFIN_FUZZ_EXAMPLES", "4"))
STATE_CHANGING = ("post", "put", "patch", "delete")
# Schema-valid is not business-valid (positive data may get a 4xx). Negative data counts an unknown
# query parameter as invalid; the API ignores those by design (webargs), so for negative data the
# rejection check is left out; no 5xx, schema-conform answers and named fields still hold, and
# missing bodies are checked by test_api_refuses_missing_bodies.
EXCLUDED = {GenerationMode.POSITIVE: [positive_data_acceptance],
            GenerationMode.NEGATIVE: [positive_data_acceptance, negative_data_rejection]}


def errors_name_a_field(ctx, response, case):
    """Our check: every 422 tells which field is at fault (``errors`` is never empty)."""
    if response.status_code == 422:
        body = response.json()
        assert body.get("errors"), f"422 without field errors: {body}"


def _describe(exc: BaseException) -> str:
    """The failure and, for a group (e.g. Hypothesis' "unreliable results"), what failed inside it."""
    inner = "; ".join(_describe(sub) for sub in getattr(exc, "exceptions", ()))
    return f"{exc}" + (f" [{inner}]" if inner else "")


@pytest.fixture(params=["admin", "producer"])
def token(request, create_user):
    _token, plain = services.issue_token(create_user(request.param), "fuzz")
    db.session.commit()
    return plain


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    only = os.environ.get("GREENFIN_FUZZ_ONLY")
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only or only in operation.path:
            yield operation


def test_api_conforms_to_its_schema(app, token):
    headers = {"Authorization": f"Bearer {token}"}
    failures, operations, cases = [], 0, 0
    for operation in _operations(app):
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],  # bounded: no shrinking
                      suppress_health_check=list(HealthCheck))
            def check(case):
                nonlocal cases
                cases += 1
                case.call_and_validate(headers=headers, excluded_checks=EXCLUDED[mode],
                                       additional_checks=[errors_name_a_field])

            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # keep going: report every failing operation
                if "Unsatisfiable" in type(exc).__name__:  # nothing negative to generate (no inputs)
                    continue
                failures.append(f"{mode} {operation.method.upper()} {operation.path}: {_describe(exc)[:1500]}")
            try:  # no operation may leave the database session unusable for the next request
                db.session.execute(text("SELECT 1"))
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: left the session broken: {exc}"[:800])
                db.session.rollback()
    print(f"API fuzz: {operations} operations, {cases} generated requests")
    assert operations > 0 and cases >= operations
    assert not failures, "\n\n".join(failures)


def test_api_refuses_missing_bodies(app, token):
    """Every operation that declares a required body refuses a request without one (422 naming it)."""
    client = app.test_client()
    checked = []
    for operation in _operations(app):
        body = operation.definition.raw.get("requestBody") or {}
        if operation.method.lower() not in STATE_CHANGING or not body.get("required"):
            continue
        if "application/json" not in body.get("content", {}):
            continue
        url = operation.path
        for parameter in operation.path_parameters:
            url = url.replace("{" + parameter.name + "}", "1")
        response = client.open(url, method=operation.method.upper(), headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (401, 403, 404, 422), (operation.path, response.status_code, response.json)
        if response.status_code == 422:
            assert response.json["errors"] == {"_body": ["a JSON request body is required"]}, operation.path
        checked.append(operation.path)
    assert len(checked) > 40
