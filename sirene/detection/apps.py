from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DetectionConfig(AppConfig):
    name = "sirene.detection"
    label = "detection"
    verbose_name = _("Detection")
