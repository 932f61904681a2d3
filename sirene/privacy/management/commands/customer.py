"""`sirene customer export EMAIL` (JSON on stdout) and `sirene customer erase EMAIL --yes`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sirene.privacy import services


class Command(BaseCommand):
    help = "Export (Art. 15/20 GDPR) or erase (Art. 17) everything sirene keeps about one customer."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="print one JSON document with everything about the customer")
        export.add_argument("email")
        erase = sub.add_parser("erase", help="pseudonymise the customer everywhere (counts stay)")
        erase.add_argument("email")
        erase.add_argument("--yes", action="store_true", help="really erase (without it: what would be erased)")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"]
        try:
            if options["action"] == "export":
                doc = services.export(email)
                self.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
                return
            if not options["yes"]:
                customer, _ = services.find(email)
                if customer is None:
                    self.stdout.write(f"No customer with the address {email} is known to sirene. Nothing to erase.")
                    return
                self.stdout.write(
                    f"Would erase customer #{customer.pk} with {customer.cases.count()} case(s). "
                    "Run again with --yes to erase."
                )
                return
            result = services.erase(email, actor_label="cli")
        except ValueError as exc:
            raise CommandError(f"email: {exc}") from None
        if result.status == "unknown":
            self.stdout.write(f"No customer with the address {email} is known to sirene. Nothing was changed.")
        elif result.status == "already_erased":
            self.stdout.write(f"Already erased (pseudonym {result.pseudonym}). Nothing was changed.")
        else:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items()) if v)
            self.stdout.write(f"Erased. The customer is now {result.pseudonym}. Changed: {counts}.")
            self.stdout.write(
                f"Slack: {result.slack_updates} message(s) will be rewritten by the worker (chat.update)."
            )
        self.stdout.write(services.GROOVE_NOTE)
