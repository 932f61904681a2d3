"""A report the detector did not link on its own: "Gleiches Problem wie …?" waits for a person."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Case
from sirene.core import clock
from sirene.incidents.models import Incident


class Proposal(models.Model):
    """The report would have joined the live incident, but it is an everyday question (see
    `detection.decide.everyday`): a yes links it like the detector does, a no keeps it out."""

    class Answer(models.TextChoices):
        OPEN = "", _("not answered")
        YES = "yes", _("same problem")
        NO = "no", _("different problem")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="link_proposals")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="link_proposals")
    proposed_at = models.DateTimeField(default=clock.now)
    answer = models.CharField(max_length=3, choices=Answer.choices, blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "incident"], name="proposal_case_incident_unique"),
        ]
        verbose_name = _("proposed link")
        verbose_name_plural = _("proposed links")

    def __str__(self) -> str:
        return f"#{self.case_id} → INC-{self.incident_id} {self.answer or '?'}"
