"""Rows of core itself: the worker's heartbeats (one per running lane loop), written through core.jobs."""

from __future__ import annotations

from django.db import models

from sirene.core import clock


class LaneBeat(models.Model):
    """A lane loop (one thread of one worker process) and when it last completed a pass."""

    lane = models.CharField(max_length=20)
    owner = models.CharField(max_length=200, unique=True, help_text="host:pid:thread")
    started_at = models.DateTimeField(default=clock.now)
    last_loop_at = models.DateTimeField(default=clock.now)
    last_loop_seconds = models.FloatField(default=0.0)
    items = models.PositiveBigIntegerField(default=0, help_text="items processed since start")

    class Meta:
        indexes = [models.Index(fields=["lane", "last_loop_at"], name="lanebeat_lane_last")]

    def __str__(self) -> str:
        return f"{self.lane} {self.owner}"
