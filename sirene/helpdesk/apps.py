from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "sirene.helpdesk"
    label = "helpdesk"
