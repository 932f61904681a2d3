from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sirene.core"
    label = "core"
