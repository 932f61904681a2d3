from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "sirene.helpdesk"
    label = "helpdesk"
    verbose_name = _("Helpdesk")
