"""`sirene bench list`: the tracking list on 100k cases — response time of the list page and API.

Builds a throw-away test database (SQLite in memory, or a test database on the configured PostgreSQL),
fills it with N cases via bulk_create, then times the pages an agent uses most. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench list")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        results = _measure(args.cases, args.repeat)
    finally:
        teardown_databases(old, verbosity=0)
    if args.json:
        print(json.dumps(results))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Tracking list on {args.cases:,} cases ({results['database']})")
    for col in ("request", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="right" if col != "request" else "left")
    for name, stats in results["requests"].items():
        table.add_row(name, f"{stats['p50_ms']:.1f}", f"{stats['p95_ms']:.1f}", f"{stats['max_ms']:.1f}")
    Console().print(table)
    return 0


def _fill(n: int) -> None:
    from django.db import connection

    from sirene.accounts.models import User
    from sirene.cases.models import Case, Category, Customer, Status

    rng = random.Random(7)
    owners = [User.objects.create(username=f"agent{i}") for i in range(8)]
    customers = Customer.objects.bulk_create(
        [Customer(email=f"kunde{i}@example.de", name=f"Kunde {i}") for i in range(n // 3)], batch_size=5000
    )
    words = [
        "Login",
        "Video",
        "Zahlung",
        "App",
        "Sync",
        "Lektion",
        "Fehler 502",
        "Passwort",
        "Checkout",
        "PDF",
    ]
    statuses, categories = Status.values, Category.values
    batch: list[Case] = []
    for i in range(n):
        tag = rng.choice(["technik", "video", "login", "paypal"])
        batch.append(
            Case(
                source="bench",
                external_id=str(i),
                subject=f"{rng.choice(words)} geht nicht ({i})",
                body="…",
                customer=customers[i % len(customers)],
                category=rng.choice(categories),
                status=rng.choice(statuses),
                owner=rng.choice(owners) if rng.random() < 0.7 else None,
                tags=[tag],
                tag_index=f",{tag},",
            )
        )
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _measure(n: int, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from sirene.accounts.models import User

    _fill(n)
    user = User.objects.create_user("bench-lead", password="bench-pass-123", role="lead")
    client = Client()
    client.force_login(user)
    requests = {
        "list, newest first": "/cases/",
        "list, page 500": "/cases/?page=500",
        "filter status+category": "/cases/?status=open_question&category=login",
        "filter owner": "/cases/?owner=agent3",
        "search subject": "/cases/?q=Zahlung",
        "filter tag": "/cases/?tag=paypal",
        "API list": "/api/v1/cases?per_page=50",
    }
    out: dict[str, Any] = {"database": connection.vendor, "cases": n, "requests": {}}
    client.get("/cases/")  # warm-up: template compilation and URL resolver, not part of any request's time
    for name, url in requests.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        out["requests"][name] = {
            "p50_ms": statistics.median(times),
            "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
            "max_ms": times[-1],
        }
    return out
