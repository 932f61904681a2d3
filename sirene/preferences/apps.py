from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreferencesConfig(AppConfig):
    name = "sirene.preferences"
    label = "preferences"
    verbose_name = _("Settings")
