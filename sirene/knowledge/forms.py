"""The known-problem form: one text box per list (phrasings one per line, articles "URL | title")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Category
from sirene.knowledge.models import KnownProblem
from sirene.knowledge.services import ProblemData


class KnownProblemForm(forms.Form):
    title = forms.CharField(label=_("Title (German)"), max_length=300)
    title_en = forms.CharField(label=_("Title (English)"), max_length=300, required=False)
    key = forms.SlugField(
        label=_("Key"),
        max_length=100,
        required=False,
        help_text=_("Stable id for import/export; left empty it is made from the title."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.OTHER)
    symptoms = forms.CharField(label=_("Symptoms"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    phrasings = forms.CharField(
        label=_("Example phrasings"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text=_("How customers describe the problem, one per line, in German or English."),
    )
    solution_steps = forms.CharField(
        label=_("Solution steps for the agent"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    customer_hints = forms.CharField(
        label=_("Hints for the customer"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_(
            "Customers are addressed with Sie or du: write both forms as [Sie form|du form], "
            "e.g. “Bitte [prüfen Sie|prüfe], ob [Ihre|deine] Bank …”."
        ),
    )
    articles = forms.CharField(
        label=_("Help articles"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One per line: URL | title"),
    )
    active = forms.BooleanField(label=_("Active (used for suggestions)"), required=False, initial=True)

    @staticmethod
    def initial_for(problem: KnownProblem) -> dict[str, Any]:
        return {
            "title": problem.title,
            "title_en": problem.title_en,
            "key": problem.key,
            "category": problem.category,
            "symptoms": problem.symptoms,
            "phrasings": "\n".join(p.text.replace("\n", " ") for p in problem.phrasings.all()),
            "solution_steps": problem.solution_steps,
            "customer_hints": problem.customer_hints,
            "articles": "\n".join(
                " | ".join(x for x in (a.get("url") or a.get("id", ""), a.get("title", "")) if x)
                for a in problem.articles or []
            ),
            "active": problem.active,
        }

    def to_data(self) -> ProblemData:
        d = self.cleaned_data
        articles = []
        for line in d["articles"].splitlines():
            if not line.strip():
                continue
            url, _sep, title = line.partition("|")
            articles.append({"url": url.strip(), "title": title.strip()})
        return ProblemData(
            title=d["title"],
            title_en=d["title_en"],
            key=d["key"],
            category=d["category"],
            symptoms=d["symptoms"],
            phrasings=[line for line in d["phrasings"].splitlines() if line.strip()],
            solution_steps=d["solution_steps"],
            customer_hints=d["customer_hints"],
            articles=articles,
            active=d["active"],
        )
