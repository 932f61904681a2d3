from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "sirene.cases"
    label = "cases"
