from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TroubleshootingConfig(AppConfig):
    name = "sirene.troubleshooting"
    label = "troubleshooting"
    verbose_name = _("Troubleshooting")
