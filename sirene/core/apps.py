from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sirene.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from sirene.core import deploy  # noqa: F401  (registers the `check --deploy` checks)
