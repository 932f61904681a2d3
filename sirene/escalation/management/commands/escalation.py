"""`sirene escalation preview …`: the timeline the worker would produce, from the same engine."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sirene.escalation import services
from sirene.escalation.models import Policy

JSON_ACTIONS = {"slack_post", "call", "task", "status_update", "stop"}


class Command(BaseCommand):
    help = "Escalation tools. `preview` prints the timeline a policy would produce."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True)
        preview = sub.add_parser("preview", help="print the timeline the engine would produce")
        preview.add_argument("--policy", help="policy name (default: the default policy)")
        preview.add_argument("--absent", action="append", default=[], metavar="PERSON")
        preview.add_argument("--no-answer", action="append", default=[], metavar="PERSON", dest="no_answer")
        preview.add_argument("--ack-at", type=float, default=None, metavar="MINUTES", dest="ack_at")
        preview.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sub"] != "preview":
            raise CommandError(f"unknown subcommand {options['sub']!r}")
        name = options.get("policy")
        policy = Policy.objects.filter(name=name).first() if name else services.default_policy()
        if policy is None:
            known = ", ".join(Policy.objects.values_list("name", flat=True)) or "none (run `sirene demo`)"
            raise CommandError(
                f"--policy: no policy {name!r}; known: {known}" if name else f"no policy; known: {known}"
            )
        if options["ack_at"] is not None and options["ack_at"] < 0:
            raise CommandError("--ack-at: must not be negative")
        snapshot = services.snapshot_of(policy)
        try:
            lines = services.preview(
                snapshot,
                absent=options["absent"],
                no_answer=options["no_answer"],
                ack_at=options["ack_at"],
            )
        except services.EscalationError as exc:
            raise CommandError(f"--{exc.field.replace('_', '-')}: {exc.message}") from exc
        if options["json"]:
            data = [
                {"at": int(line.at), "action": line.action, "person": line.person}
                for line in lines
                if line.action in JSON_ACTIONS
            ]
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(f"Policy: {policy.name}")
        for text in services.format_preview(lines):
            self.stdout.write(text)
        if snapshot.get("on_call"):  # who is phoned when (Rufbereitschaft), in the active language
            self.stdout.write("")
            for text in services.on_call_preview(snapshot):
                self.stdout.write(text)
