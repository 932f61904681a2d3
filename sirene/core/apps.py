from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sirene.core"
    label = "core"

    def ready(self) -> None:
        from sirene.core import deploy  # noqa: F401  (registers the `check --deploy` checks)
