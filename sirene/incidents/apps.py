from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "sirene.incidents"
    label = "incidents"
