"""A customer spread over every table sirene keeps, and a scan of the whole database for them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from sirene.cases.models import Case, CaseEvent, Customer
from sirene.cases.search import search_key
from sirene.core import clock
from sirene.flows import intake as intake_flow
from sirene.helpdesk.models import CachedTicket, CustomerReply, CustomerTicketsFetch, Outreach, ReplyKind
from sirene.incidents.models import EarlyWarning, Incident
from sirene.incidents.tests.conftest import make_case
from sirene.integrations.models import OutboxMessage, WebhookDelivery
from sirene.knowledge.models import ArticleView, KnownProblem, Phrasing
from sirene.troubleshooting.models import Backup, FollowUp, Reminder, Snapshot, Workspace

TEXT = (
    "Hallo liebes Team, seit heute Morgen zeigt der Mitgliederbereich im Club nur noch die Fehlermeldung 502. "
    "Ich komme gar nicht mehr an meine Kurse. Viele Grüße"
)
EMAIL = "sabine.krueger@web.de"
NAME = "Sabine Krüger"


def report(email: str, *, at: dt.datetime | None = None, text: str = TEXT) -> Case:
    with transaction.atomic():
        case = make_case(email, text, category="app_error", at=at)
        intake_flow.group_and_escalate(case)
    assert isinstance(case, Case)
    return case


def open_incident_with(email: str, n: int = 6) -> Incident:
    """n customers (the first is `email`) report over two hours; the 6th opens the incident."""
    now = clock.now()
    for i in range(n):
        who = email if i == 0 else f"kundin{i}@example.de"
        report(who, at=now - dt.timedelta(minutes=120 - 10 * i))
    return Incident.objects.get()


def spread(email: str = EMAIL, name: str = NAME, user: Any = None) -> Customer:
    """Put the customer (already reporting) into every place sirene keeps customer data."""
    customer = Customer.objects.get(email=email)
    customer.name = name
    customer.attributes = {"platform": "ios", "phone": "+49 170 1234567", "nickname": name}
    customer.save()
    case = customer.cases.first()
    assert case is not None
    case.raw_payload = {"customer": {"email": email, "name": name}, "body": f"{TEXT}\n{name}"}
    case.body = f"{TEXT}\n{name}"
    case.save()
    CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.MESSAGE, actor_label="groove",
        message=f"Customer replied in Groove:\nIch bin es wieder, {name} ({email})", data={"message_id": "m1"},
    )
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.NOTE, actor=user, message=f"Rückruf bei {name} vereinbart")
    CustomerReply.objects.create(
        kind=ReplyKind.HOLDING, case=case, ticket_number=4711, body=f"Hallo {name}, wir sind dran.", status="sent"
    )
    incident = Incident.objects.first()
    if incident is not None:
        Outreach.objects.create(
            incident=incident, case=case, email=email, decision="new_conversation", subject="Störung",
            body=f"Hallo {name}",
        )
    CachedTicket.objects.create(number=4711, customer_email=email, title=f"Ticket von {name}", summary=TEXT)
    CustomerTicketsFetch.objects.create(customer_email=email)
    WebhookDelivery.objects.create(
        source="groove", event="ticket_started", delivery_key="d1",
        body=json.dumps({"customer": {"email": email, "name": name}}),  # \u escapes, as Groove sends them
        processed_at=clock.now(),
    )
    OutboxMessage.objects.create(channel="email", kind="reply", recipient=email, body=f"Hallo {name}")
    workspace = Workspace.objects.create(case=case, answers={"since": "gestern", "contact": name})
    Snapshot.objects.create(case=case, kind="original", data={"owner": name, "mail": email}, size_bytes=10, checksum="x")
    Backup.objects.create(case=case, kind="export", data={"owner": name}, location=f"/backups/{email}.json")
    follow = FollowUp.objects.create(case=case, due_at=clock.now(), note=f"{name} anrufen")
    if user is not None:
        Reminder.objects.create(user=user, case=case, follow_up=follow, text=f"Follow-up mit {email}")
    ArticleView.objects.create(customer=customer, article="https://hilfe.example.de/502", title="502")
    problem = KnownProblem.objects.create(key="err-502", title="Fehler 502")
    Phrasing.objects.create(known_problem=problem, text=case.body, source="confirmed", case=case)
    warning = EarlyWarning.objects.create(customers=3, example=case.body[-160:])
    warning.cases.add(case)
    workspace.doc_text = f"Bei {name} half ein Neustart."
    workspace.save()
    if user is not None:
        LogEntry.objects.create(
            user=user, content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk),
            object_repr=str(customer), action_flag=ADDITION,
        )
    return customer


def needles(email: str, name: str) -> list[str]:
    """Every spelling of the address and name a dump could hold."""
    local, _, domain = email.rpartition("@")
    forms = {email, f"{local}@{domain.encode('idna').decode()}", name, *search_key(name).split(" | ")}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    return sorted({f.lower() for f in forms if f})


def full_dump() -> str:
    """The whole database as text: SQLite's iterdump, or on PostgreSQL every text/JSON column of every
    table (read inside the test's transaction, which pg_dump could not see)."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    parts: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'character')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(f'SELECT CAST("{column}" AS TEXT) FROM "{table}" WHERE "{column}" IS NOT NULL')
            parts.extend(f"{table}.{column}: {row[0]}" for row in cursor.fetchall())
    return "\n".join(parts)


def found(dump: str, email: str, name: str) -> list[str]:
    low = dump.lower()
    hits = []
    for needle in needles(email, name):
        at = low.find(needle)
        if at >= 0:
            hits.append(f"{needle!r} in …{dump[max(0, at - 120): at + 60]}…")
    return hits
