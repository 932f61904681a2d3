from django.apps import AppConfig


class TroubleshootingConfig(AppConfig):
    name = "sirene.troubleshooting"
    label = "troubleshooting"
