from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "sirene.web"
    label = "web"
