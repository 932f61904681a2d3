"""Issue 22, point 6 (code review P3, security F2/F3): the Vorwarnung is posted on core/jobs (tries,
backoff, dead state, health), to the internal channel, with the customer's text escaped."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.core import clock
from sirene.flows import health
from sirene.incidents import detection
from sirene.incidents.models import EarlyWarning
from sirene.integrations import posts
from sirene.integrations.models import ChannelPost

pytestmark = pytest.mark.django_db


def _warning() -> EarlyWarning:
    return EarlyWarning.objects.create(
        customers=3, minutes=60, example="Video schwarz <!channel> <@U0ATTACK> bitte helfen", category="other"
    )


def _post_calls(fake_slack: Any) -> int:
    return sum(1 for method, _args in fake_slack.calls if method == "chat.postMessage")


def test_the_vorwarnung_goes_to_the_internal_channel_once_with_the_customer_text_escaped(
    fake_slack: Any, start: Any
) -> None:
    warning = _warning()
    assert detection.post_pending_warnings() == 1
    assert detection.post_pending_warnings() == 0  # queued once
    assert posts.send_due("w1") == 1
    assert posts.send_due("w1") == 0
    [message] = fake_slack.posted_to("#customer-success-intern")
    assert "<!channel>" not in message["text"] and "<@U0ATTACK>" not in message["text"]
    assert "&lt;!channel&gt;" in message["text"]
    assert fake_slack.posted_to("#customer-success") == []
    assert ChannelPost.objects.get(key=f"early_warning:{warning.pk}").posted_at is not None


def test_a_permanent_slack_error_is_one_post_then_dead_and_shown_in_health(fake_slack: Any, start: Any) -> None:
    _warning()
    detection.post_pending_warnings()
    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    for _ in range(10):  # ten worker passes, as in the review's reproduction
        posts.send_due("w1")
        clock.advance(seconds=60)
    assert _post_calls(fake_slack) == 1
    post = ChannelPost.objects.get()
    assert post.dead_at is not None and post.posted_at is None and "channel_not_found" in post.last_error
    chat = next(lane for lane in health.lanes() if lane.lane == "chat")
    assert chat.dead == 1
    assert any(q["name"] == "channel_posts" and q["dead"] == 1 for q in chat.queues)


def test_a_transient_error_is_retried_with_backoff_and_posted_once(fake_slack: Any, start: Any) -> None:
    _warning()
    detection.post_pending_warnings()
    fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=20)
    posts.send_due("w1")
    assert posts.send_due("w1") == 0  # backing off
    clock.advance(seconds=120)
    assert posts.send_due("w1") == 1
    assert len(fake_slack.posted_to("#customer-success-intern")) == 1
