from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    name = "sirene.escalation"
    label = "escalation"
    verbose_name = _("Escalation")
