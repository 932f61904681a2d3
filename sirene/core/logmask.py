"""A logging filter that keeps webhook secrets out of log lines (configured in settings.LOGGING)."""

from __future__ import annotations

import logging
import re


class MaskSecretPathFilter(logging.Filter):
    """Logging filter: the Groove webhook secret is part of its URL path; it never reaches a log line.

    django.request logs the path of every 4xx/5xx ("Bad Request: /hooks/groove/<secret>").
    """

    _pattern = re.compile(r"(/hooks/groove/)[^\s/?\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hooks/groove/" in message:
            record.msg = self._pattern.sub(r"\1***", message)
            record.args = ()
        return True
