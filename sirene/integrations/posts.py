"""Channel posts outside an escalation run (the Vorwarnung), on `core.jobs` (issue 22, review P3).

`enqueue` records the post once per key; `send_due` (the chat lane) claims due posts with a lease, posts
them with the post's id in the message metadata, and on failure backs off (transient) or marks the post
dead (permanent or the last try): one post, never a storm. A post whose worker died mid-call is looked
up at Slack before it is posted again. The caller escapes customer text (`slack.escape`).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from sirene.core import clock, jobs
from sirene.integrations.base import IntegrationError
from sirene.integrations.models import ChannelPost
from sirene.integrations.registry import chat_transport

log = logging.getLogger("sirene.integrations")

POSTS: jobs.Queue[ChannelPost] = jobs.Queue(
    "channel_posts",
    ChannelPost,
    lane="chat",
    backoff=jobs.Backoff(base=30.0, cap=1800.0, max_tries=6),
)
METADATA_KEY = "channel_post_id"


def enqueue(key: str, channel: str, text: str) -> bool:
    """Queue a post (due now); False when this key was queued before (nothing changes)."""
    try:
        with transaction.atomic():
            ChannelPost.objects.create(key=key[:200], channel=channel[:100], text=text, due_at=clock.now())
    except IntegrityError:
        return False
    return True


def send_due(owner: str, limit: int = 10) -> int:
    done = 0
    for pk in POSTS.claim(owner, limit=limit):
        post = ChannelPost.objects.get(pk=pk)
        chat = chat_transport()
        try:
            if post.tries > 1:
                # An earlier try may have reached Slack (a timeout, a killed worker): look first.
                found = chat.find_message(
                    post.channel, key=METADATA_KEY, value=str(post.pk), oldest=post.created_at
                )
                if found is not None:
                    POSTS.complete(pk, owner, posted_at=clock.now(), provider_id=found.ts)
                    done += 1
                    continue
            posted = chat.post_message(post.channel, post.text, metadata={METADATA_KEY: str(post.pk)})
        except IntegrationError as exc:
            failure = POSTS.fail(pk, owner, str(exc), permanent=exc.permanent, retry_after=exc.retry_after)
            log.warning("channel post %s failed (%s): %s", post.key, "dead" if failure.dead else "retried", exc)
            continue
        POSTS.complete(pk, owner, posted_at=clock.now(), provider_id=posted.ts)
        done += 1
    return done


def tick() -> int:
    """The chat lane's step."""
    return send_due(jobs.worker_id())
