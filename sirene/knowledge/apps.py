from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "sirene.knowledge"
    label = "knowledge"
