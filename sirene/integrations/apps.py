from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "sirene.integrations"
    label = "integrations"
