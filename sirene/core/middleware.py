from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict

from sirene.core.validation import MAX_ID, clean_text

log = logging.getLogger("django.request")
API_PREFIX = "/api/"


class RequestSizeLimitMiddleware:
    """Refuse bodies over SIRENE_MAX_REQUEST_BYTES with 413 before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"error": "invalid Content-Length header"}, status=400)
        if length > limit and _large_upload_allowed(request):
            limit = max(limit, settings.MAX_UPLOAD_BYTES)
        if length > limit:
            return JsonResponse(
                {"error": f"request body of {length} bytes is larger than the limit of {limit} bytes"},
                status=413,
            )
        return self.get_response(request)


def _large_upload_allowed(request: HttpRequest) -> bool:
    """File uploads (multipart) to the paths in LARGE_UPLOAD_PATHS get MAX_UPLOAD_BYTES instead."""
    prefixes = tuple(settings.LARGE_UPLOAD_PATHS)
    content_type = request.META.get("CONTENT_TYPE", "")
    return bool(prefixes) and content_type.startswith("multipart/form-data") and request.path.startswith(prefixes)


class InputTextMiddleware:
    """Query parameters and form fields get the text rule of JSON bodies (core.validation.clean_text: no
    NUL, no lone surrogate, NFC) before any view sees them, so a NUL in `?owner=` or a form field can no
    longer reach PostgreSQL (which refuses NUL in a string: a 500) and both stores get the same text.
    A NUL in the path is a 404 (no id or slug of ours contains one).
    """

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("not found")
        if request.GET and _needs_cleaning(request.GET):
            request.GET = _cleaned(request.GET)  # type: ignore[assignment]
        if (
            request.method == "POST"
            and request.META.get("CONTENT_TYPE", "").startswith(self.FORM_TYPES)
            and _needs_cleaning(request.POST)
        ):
            request.POST = _cleaned(request.POST)  # type: ignore[assignment]
        return self.get_response(request)


def _needs_cleaning(query: QueryDict) -> bool:
    return any(clean_text(k) != k or any(clean_text(v) != v for v in values) for k, values in query.lists())


def _cleaned(query: QueryDict) -> QueryDict:
    pairs = [(clean_text(k), clean_text(v)) for k, values in query.lists() for v in values]
    return QueryDict(urlencode(pairs))


class ApiEdgeMiddleware:
    """Two rules for every /api/ request that no single endpoint can forget:

    - a path id beyond 64 bit (`/api/v1/workspace/9223372036854775808/…`) is a 422 naming the parameter,
      before any query could overflow the database's integer;
    - an unexpected exception answers JSON `{"error", "field"}` with status 500 (logged with its
      traceback), never Django's HTML error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        for name, value in view_kwargs.items():
            if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > MAX_ID:
                message = f"must be an id between 1 and {MAX_ID}"
                return JsonResponse({"error": f"{name}: {message}", "field": name}, status=422)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        log.error(
            "Internal Server Error: %s", request.path, exc_info=(type(exception), exception, exception.__traceback__)
        )
        return JsonResponse({"error": "internal server error", "field": ""}, status=500)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON under /api/ (every API error is JSON, also for a path no router knows), else the
    site's HTML page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": "not found", "field": ""}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


class ContentSecurityPolicyMiddleware:
    """Send SIRENE_CSP as Content-Security-Policy (or …-Report-Only); 'off' sends nothing.

    sirene's pages load scripts, styles and images only from their own origin (the Swagger UI included,
    served from django-ninja's static files), so the default needs no CDN and no inline script.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = str(getattr(settings, "CSP", "") or "").strip()
        if policy and policy.lower() != "off":
            header = (
                "Content-Security-Policy-Report-Only"
                if getattr(settings, "CSP_REPORT_ONLY", False)
                else "Content-Security-Policy"
            )
            if header not in response:
                response[header] = policy
        return response



class IntakeAdmission:
    """A bounded queue in front of the report intake (POST /api/v1/cases analyses inline, CPU-bound): at
    most `concurrency` intakes run at once per web process, at most `queue` more wait, each for at most
    `wait_seconds`; any other is refused at once with 503 and Retry-After. Under overload a sender learns
    in milliseconds to come back (intake is idempotent on source + external id) instead of waiting minutes
    in the server's socket queue."""

    def __init__(self, concurrency: int, queue: int, wait_seconds: float) -> None:
        import threading

        self.slots = threading.BoundedSemaphore(max(1, concurrency))
        self.queue = max(0, queue)
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self.waiting = 0

    def acquire(self) -> bool:
        if self.slots.acquire(blocking=False):
            return True
        with self._lock:
            if self.waiting >= self.queue:
                return False
            self.waiting += 1
        try:
            return self.slots.acquire(timeout=self.wait_seconds)
        finally:
            with self._lock:
                self.waiting -= 1

    def release(self) -> None:
        self.slots.release()


_admission: IntakeAdmission | None = None


def intake_admission() -> IntakeAdmission:
    global _admission
    if _admission is None:
        _admission = IntakeAdmission(
            settings.INTAKE_CONCURRENCY, settings.INTAKE_QUEUE, settings.INTAKE_WAIT_SECONDS
        )
    return _admission


class IntakeAdmissionMiddleware:
    PATH = "/api/v1/cases"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path != self.PATH:
            return self.get_response(request)
        admission = intake_admission()
        if not admission.acquire():
            response = JsonResponse({"error": "too many reports at once, please retry", "field": ""}, status=503)
            response["Retry-After"] = str(settings.INTAKE_RETRY_AFTER_SECONDS)
            return response
        try:
            return self.get_response(request)
        finally:
            admission.release()
