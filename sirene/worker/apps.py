from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "sirene.worker"
    label = "worker"
