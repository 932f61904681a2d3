from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from sirene.core.validation import clean_deep


class MalformedJson(ValueError):
    pass


class NotAnObject(ValueError):
    """A well-formed JSON document that is not an object (a string, list, number, true or null).

    Every body the API declares is an object; without this refusal django-ninja reads other values by
    attribute access (a string's ``.title`` became the title). 422 naming ``body``, nothing stored.
    """


_KINDS = {str: "a string", list: "a list", bool: "true or false", int: "a number", float: "a number"}


class JsonParser(Parser):
    """JSON bodies only; malformed JSON or a non-UTF-8 body is a clear 400, never a 500.

    Every string of the document is cleaned here, once for all endpoints (NFC, no NUL, no lone
    surrogate: see core.validation), so both stores receive the same text.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        raw = request.body
        if not raw:
            return {}
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJson(f"body is not UTF-8 (byte {exc.start})") from None
        try:
            document = clean_deep(json.loads(text))
        except json.JSONDecodeError as exc:
            raise MalformedJson(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise MalformedJson("the document is nested too deeply") from None
        except ValueError as exc:
            raise MalformedJson(str(exc)) from None
        if not isinstance(document, dict):
            kind = "null" if document is None else _KINDS.get(type(document), type(document).__name__)
            raise NotAnObject(f"body: must be a JSON object, not {kind}")
        return document
