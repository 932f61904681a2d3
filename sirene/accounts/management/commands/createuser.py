from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from sirene.accounts.models import ApiToken, Role, User


class Command(BaseCommand):
    help = "Create (or update) a user; with --token print a new API token as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.AGENT)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
        parser.add_argument(
            "--token", action="store_true", help="issue an API token and print it (shown once)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError("username must not be empty")
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if len(password) < 8:
                raise CommandError("the password must have at least 8 characters")
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username)
            user.role = options["role"]
            if options["email"]:
                user.email = options["email"]
            user.is_staff = user.role in {Role.LEAD, Role.ADMIN}
            user.is_superuser = user.role == Role.ADMIN
            if password is not None:
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.save()
            raw = None
            if options["token"]:
                _token, raw = ApiToken.issue(user, name="createuser")
        verb = "created" if created else "updated"
        self.stderr.write(f"user {username!r} {verb} (role {user.role})")
        if raw:
            self.stdout.write(raw)
