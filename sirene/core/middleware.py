from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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
    return (
        bool(prefixes)
        and content_type.startswith("multipart/form-data")
        and request.path.startswith(prefixes)
    )
