"""Known problems with their fixes, the suggestions made for each case, and help articles a customer read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Case, Category, Customer
from sirene.core import clock


class KnownProblem(models.Model):
    # Stable identifier for import/export: re-importing a file updates problems by key instead of
    # duplicating them, and a file edited elsewhere still lines up.
    key = models.SlugField(_("key"), max_length=100, unique=True)
    title = models.CharField(_("title (German)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True, default="")
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    symptoms = models.TextField(_("symptoms"), blank=True, default="")
    solution_steps = models.TextField(_("solution steps for the agent"), blank=True, default="")
    customer_hints = models.TextField(_("hints for the customer"), blank=True, default="")
    # [{"url": "...", "title": "...", "id": "..."}]: links to help-centre articles.
    articles = models.JSONField(_("help articles"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        ordering = ["title"]
        verbose_name = _("known problem")
        verbose_name_plural = _("known problems")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledge:detail", args=[self.pk])


class Phrasing(models.Model):
    """One way a customer describes the problem; the matcher learns from these."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Imported")
        CONFIRMED = "confirmed", _("Learnt from a confirmed case")

    known_problem = models.ForeignKey(KnownProblem, on_delete=models.CASCADE, related_name="phrasings")
    text = models.TextField(_("text"))
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    # The case a confirmed suggestion came from, so rejecting it later can take the phrasing back.
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("example phrasing")
        verbose_name_plural = _("example phrasings")

    def __str__(self) -> str:
        return self.text[:80]


class KnowledgeState(models.Model):
    """One row whose token changes on every write to the knowledge base.

    Each process caches its fitted matcher under this token, so a phrasing added in one web worker
    is picked up by all others (and by the worker) on their next match, without a message bus.
    """

    token = models.CharField(max_length=64)
    changed_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.token


class SuggestionState(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class Suggestion(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="kb_suggestions")
    known_problem = models.ForeignKey(KnownProblem, on_delete=models.CASCADE, related_name="suggestions")
    rank = models.PositiveSmallIntegerField(default=1)
    confidence = models.FloatField(default=0.0)
    state = models.CharField(
        max_length=20, choices=SuggestionState.choices, default=SuggestionState.SUGGESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["case", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["case", "known_problem"], name="suggestion_case_problem_unique")
        ]
        verbose_name = _("known-problem suggestion")
        verbose_name_plural = _("known-problem suggestions")

    def __str__(self) -> str:
        return f"case {self.case_id} → {self.known_problem_id} ({self.confidence:.2f})"


class MatchOutcome(models.TextChoices):
    MATCHED = "matched", _("Known problems suggested")
    EMPTY_TEXT = (
        "empty_text",
        _("No suggestion: nothing left to compare after removing quotes, signatures and greetings"),
    )
    NO_KNOWN_PROBLEMS = "no_known_problems", _("No suggestion: the knowledge base is empty")
    NOT_CLOSE_ENOUGH = "not_close_enough", _("No suggestion: no known problem is close enough")


class CaseMatch(models.Model):
    """Why a case got the suggestions it got (or none): the reason the case page and API show."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="kb_match")
    outcome = models.CharField(max_length=30, choices=MatchOutcome.choices)
    best_similarity = models.FloatField(default=0.0)
    kb_token = models.CharField(max_length=64, blank=True, default="")
    computed_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.outcome}"


class ArticleView(models.Model):
    """A help article a customer already read (so nobody sends it to them again)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="article_views")
    # A URL or the help centre's article id, as reported.
    article = models.CharField(_("article"), max_length=500)
    title = models.CharField(_("title"), max_length=300, blank=True, default="")
    viewed_at = models.DateTimeField(_("viewed"), default=clock.now)
    source = models.CharField(_("source"), max_length=50, blank=True, default="manual")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-viewed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "article", "viewed_at"], name="articleview_customer_article_at_unique"
            )
        ]
        indexes = [models.Index(fields=["customer", "-viewed_at"], name="articleview_customer_at")]
        verbose_name = _("help article read")
        verbose_name_plural = _("help articles read")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.article}"
