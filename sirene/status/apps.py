from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "sirene.status"
    label = "status"
    verbose_name = "Statusseite"
