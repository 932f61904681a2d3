"""`sirene permissions`: print the role × action table (the README's copy comes from here)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from sirene.accounts.permissions import markdown_table


class Command(BaseCommand):
    help = "Print who may do what (accounts.permissions) as a Markdown table."

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override("en"):
            self.stdout.write(markdown_table())
