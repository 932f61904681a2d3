"""The JSON API (django-ninja): one router per domain, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

import logging
import re

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from sirene.api.auth import api_auth
from sirene.api.parser import JsonParser, MalformedJson, NotAnObject
from sirene.core.errors import FieldError

log = logging.getLogger("django.request")
RETRY_AFTER_SECONDS = 5

api = NinjaAPI(
    title="sirene API",
    version="1",
    description="Tech cases, known problems, incidents and escalation.",
    auth=api_auth,
    parser=JsonParser(),
    urls_namespace="api",
)


def _field_of(loc: list[object]) -> str:
    """('body', 'payload', 'customer', 'email') → 'customer.email'; ('query', 'q') → 'q'.

    Only the location prefix is dropped (for a body: also the schema argument's name), so a field that
    happens to be called `body` is still named.
    """
    parts = [str(p) for p in loc]
    if parts[:1] == ["body"]:
        parts = parts[2:]
    elif parts[:1] and parts[0] in ("query", "path", "form", "file", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = list(err.get("loc", []))
        errors.append({"field": _field_of(loc), "message": str(err.get("msg", "invalid"))})
    first = errors[0] if errors else {"field": "", "message": "invalid input"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return api.create_response(
        request, {"error": message, "field": first["field"], "errors": errors}, status=422
    )


@api.exception_handler(FieldError)
def on_field_error(request: HttpRequest, exc: FieldError) -> HttpResponse:
    """Every domain's bad-input error (cases, knowledge, incidents, escalation, helpdesk, workspace)."""
    return api.create_response(
        request,
        {
            "error": f"{exc.field}: {exc.message}",
            "field": exc.field,
            "errors": [{"field": exc.field, "message": exc.message}],
        },
        status=422,
    )


@api.exception_handler(MalformedJson)
def on_malformed_json(request: HttpRequest, exc: MalformedJson) -> HttpResponse:
    return api.create_response(request, {"error": f"malformed JSON: {exc}", "field": ""}, status=400)


@api.exception_handler(NotAnObject)
def on_not_an_object(request: HttpRequest, exc: NotAnObject) -> HttpResponse:
    message = str(exc)
    return api.create_response(
        request,
        {"error": message, "field": "body", "errors": [{"field": "body", "message": message[len("body: ") :]}]},
        status=422,
    )


@api.exception_handler(DatabaseError)
def on_database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """The database refused or went away (it is down, read-only, failing over): nothing was stored by this
    request (each write is one transaction), so the client retries: 503 with Retry-After, not a 500."""
    log.error("database error on %s: %s", request.path, exc, exc_info=exc)
    response = api.create_response(
        request, {"error": "the database is not available, please retry", "field": ""}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": "missing or invalid API token (Authorization: Bearer <token>)", "field": ""},
        status=401,
    )


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    """A multipart upload without a boundary (or otherwise broken) is the client's fault: 400."""
    return api.create_response(request, {"error": f"malformed multipart body: {exc}", "field": "file"}, status=400)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """The role table (accounts.permissions) said no: 403, the same rule the web UI applies."""
    return api.create_response(request, {"error": str(exc) or "forbidden", "field": ""}, status=403)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"error": str(exc) or "not found", "field": ""}, status=404)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, MalformedJson):
        return on_malformed_json(request, exc.__cause__)
    if isinstance(exc.__cause__, NotAnObject):
        return on_not_an_object(request, exc.__cause__)
    message = str(exc)
    # Endpoints raise HttpError(422, "field: message"); the prefix names the field.
    match = _FIELD_PREFIX.match(message) if exc.status_code == 422 else None
    return api.create_response(
        request, {"error": message, "field": match.group(1) if match else ""}, status=exc.status_code
    )


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.]*): ")


def _register() -> None:
    from sirene.api.health import router as health_router
    from sirene.cases.api import router as cases_router
    from sirene.escalation.api import router as escalation_router
    from sirene.helpdesk.api import case_router as helpdesk_case_router
    from sirene.helpdesk.api import router as helpdesk_router
    from sirene.incidents.api import router as incidents_router
    from sirene.knowledge.api import customers_router as knowledge_customers_router
    from sirene.knowledge.api import router as knowledge_router
    from sirene.privacy.api import router as privacy_router
    from sirene.troubleshooting.api import case_router as troubleshooting_case_router
    from sirene.troubleshooting.api import router as troubleshooting_router

    api.add_router("/cases", cases_router)
    api.add_router("/cases", helpdesk_case_router)
    api.add_router("/customers", troubleshooting_router)
    api.add_router("/workspace", troubleshooting_case_router)
    api.add_router("/customers", knowledge_customers_router)
    api.add_router("/customers", privacy_router)
    api.add_router("/knowledge", knowledge_router)
    api.add_router("/incidents", incidents_router)
    api.add_router("/escalation", escalation_router)
    api.add_router("/helpdesk", helpdesk_router)
    api.add_router("/health", health_router)


_register()
