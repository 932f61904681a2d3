"""Known problems: every write to the knowledge base, matching new cases, and articles a customer read.

Called by the intake flow (`match`), the cases API (`suggestions_for`, `similar_cases_for`)
and the troubleshooting workspace (`record_article_view`, `articles_read_by`,
`create_from_documentation`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.utils.text import slugify
from django.utils.translation import gettext

from sirene.accounts.models import User
from sirene.cases import services as cases
from sirene.cases.embedding import case_vector
from sirene.cases.models import Case, CaseEvent, Category, Customer
from sirene.core import clock, validation
from sirene.core.errors import FieldError
from sirene.core.memo import per_page
from sirene.knowledge import matching, neighbours
from sirene.knowledge.models import (
    ArticleView,
    CaseMatch,
    KnowledgeState,
    KnownProblem,
    MatchOutcome,
    Phrasing,
    Suggestion,
    SuggestionState,
)
from sirene.similarity import clean_text

log = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_TEXT = 20_000
MAX_PHRASING = 5_000
MAX_PHRASINGS = 1_000
MAX_ARTICLES = 50
MAX_ARTICLE = 500
_WEB_URL = re.compile(r"^https?://[^\s/]", re.IGNORECASE)


class KnowledgeError(FieldError):
    """Bad input for the knowledge base; names the field (the API answers 422)."""


# ---------------------------------------------------------------------------------------------
# Known problems


@dataclass
class ProblemData:
    title: str
    category: str = Category.OTHER
    title_en: str = ""
    symptoms: str = ""
    solution_steps: str = ""
    customer_hints: str = ""
    articles: list[dict[str, str]] = field(default_factory=list)
    phrasings: list[str] = field(default_factory=list)
    key: str = ""
    active: bool = True


def _hints(text: str) -> str:
    """Customer hints go to customers in their voice (Sie or du): a form of address must be written as
    "[Sie-Form|du-Form]" (e.g. "Bitte [prüfen Sie|prüfe], ob [Ihre|deine] Bank …"), else it is refused."""
    from sirene.preferences.voice import unmarked_forms

    found = unmarked_forms(text)
    if found:
        words = ", ".join(dict.fromkeys(found))
        raise KnowledgeError(
            "customer_hints",
            f"write every form of address as [Sie form|du form], e.g. [prüfen Sie|prüfe] (found: {words})",
        )
    return text


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise KnowledgeError(name, f"must be text, not {type(value).__name__}")
    text = validation.clean_text(value).strip()
    if required and not text:
        raise KnowledgeError(name, "must not be empty")
    if len(text) > limit:
        raise KnowledgeError(name, f"is {len(text)} characters long; at most {limit} are allowed")
    return text


def _articles(value: Any, name: str = "articles") -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise KnowledgeError(name, "must be a list of {url, title}")
    if len(value) > MAX_ARTICLES:
        raise KnowledgeError(name, f"at most {MAX_ARTICLES} articles")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            raise KnowledgeError(f"{name}.{i}", "must be a URL or an object with url and title")
        url = _text(item.get("url"), f"{name}.{i}.url", MAX_ARTICLE)
        if url and not _WEB_URL.match(url):
            # Rendered as a link on the case and KB pages: javascript:/data: URLs must never get there.
            raise KnowledgeError(f"{name}.{i}.url", "must be an http:// or https:// address")
        ident = _text(item.get("id"), f"{name}.{i}.id", 200)
        if not url and not ident:
            raise KnowledgeError(f"{name}.{i}.url", "an article needs a url or an id")
        entry = {"url": url, "title": _text(item.get("title"), f"{name}.{i}.title", MAX_TITLE)}
        if ident:
            entry["id"] = ident
        out.append(entry)
    return out


def _phrasings(value: Any, name: str = "phrasings") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        raise KnowledgeError(name, "must be a list of texts")
    texts = [_text(v, f"{name}.{i}", MAX_PHRASING) for i, v in enumerate(value)]
    texts = list(dict.fromkeys(t for t in texts if t))
    if len(texts) > MAX_PHRASINGS:
        raise KnowledgeError(name, f"at most {MAX_PHRASINGS} phrasings")
    return texts


def validate(data: ProblemData) -> ProblemData:
    """A cleaned copy of ``data``, or KnowledgeError naming the first bad field."""
    category = data.category or Category.OTHER
    if category not in Category.values:
        raise KnowledgeError("category", f"{category!r} is not one of: {', '.join(Category.values)}")
    key = _text(data.key, "key", 100)
    if key and slugify(key) != key:
        raise KnowledgeError("key", "use only lower-case letters, digits and hyphens")
    return ProblemData(
        key=key,
        title=_text(data.title, "title", MAX_TITLE, required=True),
        title_en=_text(data.title_en, "title_en", MAX_TITLE),
        category=category,
        symptoms=_text(data.symptoms, "symptoms", MAX_TEXT),
        solution_steps=_text(data.solution_steps, "solution_steps", MAX_TEXT),
        customer_hints=_hints(_text(data.customer_hints, "customer_hints", MAX_TEXT)),
        articles=_articles(data.articles),
        phrasings=_phrasings(data.phrasings),
        active=bool(data.active),
    )


def _bump() -> None:
    """Tell every process that the KB changed (their cached matcher refits on the next match).

    The token is a digest of exactly what the matcher learns from, so a process refits only when
    its training data really differs, and identical knowledge bases share one fitted matcher.
    """
    KnowledgeState.objects.update_or_create(
        pk=1, defaults={"token": matching.examples_digest(), "changed_at": clock.now()}
    )


def _unique_key(title: str, exclude: int | None = None) -> str:
    base = (slugify(title) or "problem")[:90]
    key, n = base, 2
    while KnownProblem.objects.filter(key=key).exclude(pk=exclude or 0).exists():
        key, n = f"{base}-{n}", n + 1
    return key


def _apply(problem: KnownProblem, data: ProblemData) -> None:
    problem.title = data.title
    problem.title_en = data.title_en
    problem.category = data.category
    problem.symptoms = data.symptoms
    problem.solution_steps = data.solution_steps
    problem.customer_hints = data.customer_hints
    problem.articles = data.articles
    problem.active = data.active
    problem.updated_at = clock.now()


@transaction.atomic
def create_known_problem(
    data: ProblemData, *, actor: User | None = None, source: str = Phrasing.Source.MANUAL
) -> KnownProblem:
    data = validate(data)
    if data.key and KnownProblem.objects.filter(key=data.key).exists():
        raise KnowledgeError("key", f"{data.key!r} is already used by another known problem")
    problem = KnownProblem(key=data.key or _unique_key(data.title), created_by=actor, created_at=clock.now())
    _apply(problem, data)
    problem.save()
    Phrasing.objects.bulk_create(
        [
            Phrasing(known_problem=problem, text=t, source=source, created_at=clock.now())
            for t in data.phrasings
        ]
    )
    _bump()
    return problem


@transaction.atomic
def update_known_problem(
    problem: KnownProblem, data: ProblemData, *, actor: User | None = None
) -> KnownProblem:
    """Replace the problem's fields; phrasings become exactly ``data.phrasings`` (kept rows keep their origin)."""
    data = validate(data)
    problem = KnownProblem.objects.select_for_update().get(pk=problem.pk)
    if data.key and data.key != problem.key:
        if KnownProblem.objects.filter(key=data.key).exclude(pk=problem.pk).exists():
            raise KnowledgeError("key", f"{data.key!r} is already used by another known problem")
        problem.key = data.key
    _apply(problem, data)
    problem.save()
    wanted = set(data.phrasings)
    existing = {p.text: p for p in problem.phrasings.all()}
    Phrasing.objects.filter(pk__in=[p.pk for t, p in existing.items() if t not in wanted]).delete()
    Phrasing.objects.bulk_create(
        [
            Phrasing(known_problem=problem, text=t, source=Phrasing.Source.MANUAL, created_at=clock.now())
            for t in data.phrasings
            if t not in existing
        ]
    )
    _bump()
    return problem


@transaction.atomic
def add_phrasings(
    problem: KnownProblem, texts: list[str], *, source: str = Phrasing.Source.MANUAL, case: Case | None = None
) -> int:
    """Add example phrasings that the problem does not have yet; returns how many were added."""
    texts = _phrasings(texts)
    have = set(problem.phrasings.filter(text__in=texts).values_list("text", flat=True))
    new = [t for t in texts if t not in have]
    Phrasing.objects.bulk_create(
        [
            Phrasing(known_problem=problem, text=t, source=source, case=case, created_at=clock.now())
            for t in new
        ]
    )
    if new:
        KnownProblem.objects.filter(pk=problem.pk).update(updated_at=clock.now())
        _bump()
    return len(new)


@transaction.atomic
def delete_known_problem(problem: KnownProblem) -> None:
    problem.delete()
    _bump()


def create_from_documentation(
    *,
    title: str,
    category: str,
    symptoms: str,
    solution_steps: str,
    example_phrasing: str,
    created_by: User | None,
) -> KnownProblem:
    """One click in the troubleshooting workspace: a case's final documentation becomes a known problem."""
    phrasing = (
        clean_text(example_phrasing or "")[:MAX_PHRASING] or (example_phrasing or "").strip()[:MAX_PHRASING]
    )
    return create_known_problem(
        ProblemData(
            title=title,
            category=category or Category.OTHER,
            symptoms=symptoms,
            solution_steps=solution_steps,
            phrasings=[phrasing] if phrasing else [],
        ),
        actor=created_by,
    )


def notify_changed() -> None:
    """For writes that bypass these services (the Django admin): make every process refit."""
    _bump()


# ---------------------------------------------------------------------------------------------
# Matching cases


def _case_text(case: Case) -> tuple[str, Any]:
    clean = case.clean_text or clean_text(case.text)
    return clean, case_vector(case)


# A knowledge-base match this sure counts like an agent's confirmation (for grouping).
KNOWN_PROBLEM_CONFIDENCE = 0.9


@dataclass(frozen=True)
class KnowledgeMatch:
    """What the knowledge base knows about a new case: the stored match, and the key of the known
    problem it is sure of ("" for none) — confirmed by an agent or matched with high confidence."""

    case_match: CaseMatch
    confident_key: str = ""


def match(case: Case) -> KnowledgeMatch:
    """The intake flow, for every new case (inside its transaction): store the suggestions and say
    which known problem, if any, is sure enough to steer the grouping."""
    stored, rows = _compute_suggestions(case)
    # The suggestions just written are exactly `rows`: no second read of them.
    return KnowledgeMatch(case_match=stored, confident_key=_confident_key(rows))


# (known problem id, state, confidence, rank) of a case's suggestions.
_SuggestionRow = tuple[int | None, str, float | None, int]


def _confident_key(rows: Sequence[_SuggestionRow]) -> str:
    """The first suggestion (by rank, then confidence) that is confirmed or sure enough, else ""."""
    for known_problem_id, state, confidence, _rank in sorted(rows, key=lambda r: (r[3], -(r[2] or 0.0))):
        confirmed = state == SuggestionState.CONFIRMED
        if known_problem_id is not None and (
            confirmed or float(confidence or 0.0) >= KNOWN_PROBLEM_CONFIDENCE
        ):
            return str(known_problem_id)[:100]
    return ""


def confident_known_problem(case: Case) -> str:
    """Key of the known problem this case is confirmed (or matched with high confidence) to, else ""."""
    try:
        # A savepoint: a failing knowledge query must not poison the intake transaction.
        with transaction.atomic():
            rows = list(
                Suggestion.objects.filter(case=case)
                .order_by("rank", "-confidence")
                .values_list("known_problem_id", "state", "confidence", "rank")
            )
    except Exception:  # the knowledge base must never stop grouping
        log.exception("knowledge suggestions failed for case %s", case.pk)
        return ""
    return _confident_key(rows)


def compute_suggestions(case: Case) -> CaseMatch:
    """Store the top known problems for the case; decisions agents already made are kept."""
    return _compute_suggestions(case)[0]


# Inside the intake transaction no savepoint of its own: a failure rolls the whole analysis back.


@transaction.atomic(savepoint=False)
def _compute_suggestions(case: Case) -> tuple[CaseMatch, list[_SuggestionRow]]:
    """`compute_suggestions`, also returning the case's suggestions as they are stored now."""
    clean, vector = _case_text(case)
    ranking = matching.rank(clean, vector)
    # One read of the case's suggestions (a new case has none): the decisions agents made are kept,
    # the plain suggestions are replaced.
    decided: dict[int, Suggestion] = {}
    stale = False
    for s in Suggestion.objects.filter(case=case):
        if s.state == SuggestionState.SUGGESTED:
            stale = True
        else:
            decided[s.known_problem_id] = s
    if stale:
        Suggestion.objects.filter(case=case, state=SuggestionState.SUGGESTED).delete()
    now = clock.now()
    rows: list[_SuggestionRow] = []
    fresh: list[Suggestion] = []
    for rank_no, (problem_id, confidence, _similarity) in enumerate(ranking.items, start=1):
        if problem_id in decided:
            Suggestion.objects.filter(pk=decided[problem_id].pk).update(confidence=confidence, rank=rank_no)
            rows.append((problem_id, decided[problem_id].state, confidence, rank_no))
            continue
        fresh.append(
            Suggestion(
                case=case, known_problem_id=problem_id, rank=rank_no, confidence=confidence, created_at=now
            )
        )
        rows.append((problem_id, SuggestionState.SUGGESTED, confidence, rank_no))
    if fresh:
        Suggestion.objects.bulk_create(fresh)
    # Decisions the new ranking no longer contains stay visible, after the fresh suggestions.
    ranked = {problem_id for problem_id, _c, _s in ranking.items}
    leftovers = sorted((s for pid, s in decided.items() if pid not in ranked), key=lambda s: s.rank)
    for offset, s in enumerate(leftovers, start=len(ranking.items) + 1):
        Suggestion.objects.filter(pk=s.pk).update(rank=offset)
        rows.append((s.known_problem_id, s.state, s.confidence, offset))
    return _store_match(case, ranking, now), rows


def _store_match(case: Case, ranking: matching.Ranking, now: datetime) -> CaseMatch:
    """The case's one CaseMatch row, inserted or updated in one statement (race-free)."""
    match = CaseMatch(
        case=case,
        outcome=ranking.outcome,
        best_similarity=round(ranking.best_similarity, 4),
        kb_token=ranking.token,
        computed_at=now,
    )
    CaseMatch.objects.bulk_create(
        [match],
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=["outcome", "best_similarity", "kb_token", "computed_at"],
    )
    return match


def match_reason(case: Case) -> dict[str, Any]:
    """Why the case has these suggestions (or none), for the case page and the API."""
    # The knowledge base's current token comes along in the same read.
    token = KnowledgeState.objects.filter(pk=1).values("token")[:1]
    match = CaseMatch.objects.filter(case=case).annotate(kb_now=Subquery(token)).first()
    if match is None:
        return {"outcome": "pending", "reason": gettext("not analysed yet"), "stale": False}
    return {
        "outcome": match.outcome,
        "reason": str(MatchOutcome(match.outcome).label),
        "best_similarity": match.best_similarity,
        "computed_at": match.computed_at.isoformat(),
        # The KB changed since AND this case's suggestions would change: "recompute" finds something new.
        # (Any KB edit used to mark every case, right after one's own confirm too.)
        "stale": match.kb_token != (match.kb_now or "empty") and _suggestions_would_change(case, match),
    }


def _suggestions_would_change(case: Case, match: CaseMatch) -> bool:
    """Whether ranking the case against today's knowledge base gives other known problems than the ones
    it shows. When it would not, the stored match takes today's token, so the next look is one read."""
    clean, vector = _case_text(case)
    ranking = matching.rank(clean, vector)
    now = [problem_id for problem_id, _c, _s in ranking.items]
    shown = list(
        Suggestion.objects.filter(case=case, state=SuggestionState.SUGGESTED)
        .order_by("rank")
        .values_list("known_problem_id", flat=True)
    )
    decided = set(
        Suggestion.objects.filter(case=case).exclude(state=SuggestionState.SUGGESTED).values_list(
            "known_problem_id", flat=True
        )
    )
    if [p for p in now if p not in decided] != shown or ranking.outcome != match.outcome:
        return True
    CaseMatch.objects.filter(pk=match.pk).update(kb_token=ranking.token)
    return False


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _slug(value: str) -> str:
    """'Passwort zurücksetzen' and '/artikel/passwort-zuruecksetzen' meet at 'passwort-zuruecksetzen'."""
    return slugify((value or "").lower().translate(_UMLAUTS))


def _article_keys(value: str) -> set[str]:
    """Comparable forms of an article reference: a URL (with or without scheme/www/slash), an id or a title."""
    v = (value or "").strip().lower()
    if not v:
        return set()
    keys = {v}
    if "/" in v or "://" in v:
        parts = urlsplit(v if "://" in v else "https://" + v.lstrip("/"))
        path = parts.path.rstrip("/")
        keys.add(parts.netloc.removeprefix("www.") + path)
        last = _slug(path.rsplit("/", 1)[-1])
    else:
        last = _slug(v)
    if last:
        keys.add("#" + last)
    return keys


def split_articles(
    articles: list[dict[str, str]], views: list[ArticleView]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(articles to propose, articles the customer already read with when).

    Agents record what the customer says ("I read the article about resetting the password"), so
    a view matches an article by URL, by id, or by title.
    """
    read: dict[str, ArticleView] = {}
    for view in reversed(views):  # newest wins
        for key in _article_keys(view.article) | _article_keys(view.title):
            read[key] = view
    fresh, already = [], []
    for article in articles:
        keys = (
            _article_keys(article.get("url", ""))
            | _article_keys(article.get("id", ""))
            | _article_keys(article.get("title", ""))
        )
        hit = next((read[k] for k in sorted(keys) if k in read), None)
        if hit is None:
            fresh.append(article)
        else:
            already.append({**article, "viewed_at": hit.viewed_at.isoformat()})
    return fresh, already


def suggestion_to_dict(s: Suggestion, views: list[ArticleView]) -> dict[str, Any]:
    problem = s.known_problem
    fresh, already = split_articles(problem.articles or [], views)
    return {
        "id": s.pk,
        "known_problem_id": problem.pk,
        "title": problem.title,
        "title_en": problem.title_en,
        "category": problem.category,
        "confidence": round(s.confidence, 3),
        "rank": s.rank,
        "solution_steps": problem.solution_steps,
        "customer_hints": problem.customer_hints,
        "articles": fresh,
        "articles_already_read": already,
        "state": s.state,
        "url": problem.get_absolute_url(),
    }


@per_page
def suggestions_for(case: Case) -> list[dict[str, Any]]:
    """Top known problems for this case, for the API and the case page."""
    rows = list(
        Suggestion.objects.filter(case=case).select_related("known_problem").order_by("rank", "-confidence")
    )
    if not rows:
        return []
    views = articles_read_by(case.customer)
    return [suggestion_to_dict(s, views) for s in rows]


@per_page
def similar_cases_for(case: Case) -> list[dict[str, Any]]:
    """Similar past cases and how they were solved."""
    vector = case_vector(case)
    if vector is None:
        return []
    out = []
    for other, similarity in neighbours.nearest_case_rows(case.pk, vector):
        out.append(
            {
                "case_id": other.pk,
                "subject": other.subject,
                "similarity": round(similarity, 3),
                "status": other.status,
                "solution": other.solution,
                "solved_at": other.solved_at.isoformat() if other.solved_at else None,
                "url": other.get_absolute_url(),
            }
        )
    return out


@transaction.atomic
def confirm_suggestion(suggestion: Suggestion, *, actor: User | None, actor_label: str = "") -> Suggestion:
    """The agent says "yes, it is this problem": the case's text becomes a new example phrasing."""
    suggestion = (
        Suggestion.objects.select_for_update().select_related("case", "known_problem").get(pk=suggestion.pk)
    )
    if suggestion.state == SuggestionState.CONFIRMED:
        return suggestion
    case, problem = suggestion.case, suggestion.known_problem
    suggestion.state = SuggestionState.CONFIRMED
    suggestion.decided_by = actor
    suggestion.decided_at = clock.now()
    suggestion.save(update_fields=["state", "decided_by", "decided_at"])
    clean, _vector = _case_text(case)
    learnt = (
        add_phrasings(problem, [clean[:MAX_PHRASING]], source=Phrasing.Source.CONFIRMED, case=case)
        if clean
        else 0
    )
    cases.record(
        case,
        CaseEvent.Kind.SYSTEM,
        actor=actor,
        actor_label=actor_label,
        message=f"Known problem confirmed: {problem.title}",
        data={"known_problem_id": problem.pk, "learnt_phrasing": bool(learnt)},
    )
    if case.category == Category.OTHER and problem.category != Category.OTHER:
        cases.set_category(case, problem.category, actor=actor, actor_label=actor_label)
    return suggestion


@transaction.atomic
def reject_suggestion(suggestion: Suggestion, *, actor: User | None, actor_label: str = "") -> Suggestion:
    """The agent says "not this problem"; a phrasing learnt from an earlier confirmation is taken back."""
    suggestion = (
        Suggestion.objects.select_for_update().select_related("case", "known_problem").get(pk=suggestion.pk)
    )
    if suggestion.state == SuggestionState.REJECTED:
        return suggestion
    was_confirmed = suggestion.state == SuggestionState.CONFIRMED
    suggestion.state = SuggestionState.REJECTED
    suggestion.decided_by = actor
    suggestion.decided_at = clock.now()
    suggestion.save(update_fields=["state", "decided_by", "decided_at"])
    if was_confirmed:
        removed, _ = Phrasing.objects.filter(
            known_problem=suggestion.known_problem, case=suggestion.case, source=Phrasing.Source.CONFIRMED
        ).delete()
        if removed:
            _bump()
    cases.record(
        suggestion.case,
        CaseEvent.Kind.SYSTEM,
        actor=actor,
        actor_label=actor_label,
        message=f"Known problem rejected: {suggestion.known_problem.title}",
        data={"known_problem_id": suggestion.known_problem_id},
    )
    return suggestion


# ---------------------------------------------------------------------------------------------
# Searching


# Words that occur in nearly every support text; matching them lexically would rank everything.
_STOPWORDS = frozenset(
    """ich du er sie es wir ihr mein meine meinen meinem mir mich dich sich nicht kein keine keinen und oder
    aber der die das den dem des ein eine einen einem ist sind war habe hat haben wird werden kann konnte
    komme kommt geht mit bei von für auf aus zum zur noch mehr immer schon auch nur wie was warum wo wann
    dass hallo bitte danke seit heute mal jetzt euch eure euer the and not can cannot can't don't does
    doesn't did didn't with for from this that have has was are you your it's get any all but when what
    how why won't isn't there""".split()
)


def search(q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Known problems for an agent's own query: the matcher's ranking plus plain text matches."""
    query = (q or "").replace("\x00", "").strip()[:2000]
    if not query:
        return []
    scores: dict[int, dict[str, float]] = {}
    ranking = matching.rank(clean_text(query) or query, None, k=limit, floor=matching.SEARCH_FLOOR)
    for problem_id, confidence, similarity in ranking.items:
        scores.setdefault(problem_id, {})["semantic"] = confidence
        scores[problem_id]["similarity"] = similarity
    words = [w.strip(".,;:!?()\"'“”„") for w in query.lower().split()]
    terms = [w for w in words if len(w) >= 3 and w not in _STOPWORDS][:10]
    cond = Q(pk__in=[])
    for term in terms:
        cond |= (
            Q(title__icontains=term)
            | Q(title_en__icontains=term)
            | Q(symptoms__icontains=term)
            | Q(solution_steps__icontains=term)
            | Q(key__icontains=term)
        )
    for problem in KnownProblem.objects.filter(cond, active=True)[:200]:
        haystack = " ".join(
            [problem.title, problem.title_en, problem.symptoms, problem.solution_steps, problem.key]
        ).lower()
        title = f"{problem.title} {problem.title_en}".lower()
        hits = sum(1 for t in terms if t in haystack) / len(terms)
        in_title = sum(1 for t in terms if t in title) / len(terms)
        scores.setdefault(problem.pk, {})["lexical"] = 0.6 * hits + 0.4 * in_title
    if not scores:
        return []
    problems = KnownProblem.objects.in_bulk(list(scores))
    results: list[dict[str, Any]] = []
    for pk, parts in scores.items():
        found = problems.get(pk)
        if found is None or not found.active:
            continue
        problem = found
        score = max(parts.get("semantic", 0.0), 0.0) * 0.7 + parts.get("lexical", 0.0) * 0.5
        results.append(
            {
                "known_problem_id": pk,
                "key": problem.key,
                "title": problem.title,
                "title_en": problem.title_en,
                "category": problem.category,
                "score": round(min(1.0, score), 3),
                "matched_by": sorted(k for k in parts if k in {"semantic", "lexical"}),
                "solution_steps": problem.solution_steps,
                "url": problem.get_absolute_url(),
            }
        )
    results.sort(key=lambda r: (-r["score"], r["title"]))
    return results[:limit]


# ---------------------------------------------------------------------------------------------
# Help articles a customer already read


def record_article_view(
    customer: Customer,
    article: str,
    *,
    title: str = "",
    viewed_at: datetime | None = None,
    source: str = "manual",
) -> ArticleView:
    """Idempotent on (customer, article, viewed_at): a repeated delivery returns the stored row."""
    return record_article_view_created(customer, article, title=title, viewed_at=viewed_at, source=source)[0]


def record_article_view_created(
    customer: Customer,
    article: str,
    *,
    title: str = "",
    viewed_at: datetime | None = None,
    source: str = "manual",
) -> tuple[ArticleView, bool]:
    """:func:`record_article_view` that also says whether the row is new (the API answers 201 vs 200)."""
    article = _text(article, "article", MAX_ARTICLE, required=True)
    title = _text(title, "title", MAX_TITLE)
    source = _text(source, "source", 50) or "manual"
    try:
        when = validation.check_datetime(viewed_at) if viewed_at is not None else clock.now()
    except ValueError as exc:
        raise KnowledgeError("viewed_at", str(exc)) from None
    try:
        with transaction.atomic():
            return ArticleView.objects.get_or_create(
                customer=customer,
                article=article,
                viewed_at=when,
                defaults={"title": title, "source": source, "created_at": clock.now()},
            )
    except IntegrityError:
        return ArticleView.objects.get(customer=customer, article=article, viewed_at=when), False


@per_page
def articles_read_by(customer: Customer) -> list[ArticleView]:
    """Help articles this customer already read, newest first."""
    return list(ArticleView.objects.filter(customer=customer).order_by("-viewed_at", "-id"))
