from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "sirene.worker"
    label = "worker"
    verbose_name = _("Worker")
