from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "sirene.escalation"
    label = "escalation"
