"""Customer values in a Groove reply cannot become HTML (security review F13): the body is escaped where it
becomes Groove's HTML, and the crash-safety marker stays a real (invisible) comment."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.helpdesk import replies
from sirene.integrations.groove import MARKER

pytestmark = pytest.mark.django_db


def test_a_reply_with_markup_in_name_and_subject_is_posted_escaped(groove: Any, quick_client: Any) -> None:
    groove.add_ticket(501, email="x@example.com")
    values = {"greeting": 'Hallo <img src=x onerror="alert(1)">,', "subject": "<script>alert(2)</script> & Co"}
    body = replies.render("holding", values, text="{greeting}\n\nzu {subject}: wir sind dran.")
    assert "<script>" in body  # stored as the plain text it is (the outbox shows it escaped)
    quick_client.reply(501, body, marker="reply-1-1")
    posted = groove.posted(501)[-1].body["body"]
    assert "<script>" not in posted and "<img" not in posted
    assert "&lt;script&gt;alert(2)&lt;/script&gt; &amp; Co" in posted
    assert posted.endswith(MARKER.format(marker="reply-1-1"))
