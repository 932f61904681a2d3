"""The incident brief: what is broken, since when, for how many, who, and the common thread.

Built from the incident's linked cases (so manual incidents get one too) and rebuilt as cases
arrive. The common thread ("roter Faden") compares, per attribute value, the share among the
affected customers with the share among recent other reporters (the baseline) and keeps a value
only when all of these hold:

* support: at least MIN_SUPPORT affected customers have it,
* strength: at least MIN_SHARE of the affected customers that state the attribute have it, and
  the share is MIN_LIFT points above the baseline share,
* significance: the one-sided binomial tail of the count against the baseline share (smoothed
  with one pseudo-customer each way), below ALPHA after a Bonferroni correction over every
  attribute family that was compared (e-mail domain/provider/group are one family, platform/os/
  device another; with at least MIN_BASELINE baseline customers stating the
  attribute; without a baseline nothing can be called unusual). Many attributes are looked at,
  so a 5-of-6 by chance must not become a thread.

The named thread (`thread` in the brief) is the most significant finding, as one attribute and its
value(s), or None: the brief then says "kein roter Faden".

Attributes come from the customer record (platform, device, os, browser, app_version,
club_member, plan, country, language, …), from the e-mail address (domain and provider family),
and from the report text (`sirene.cases.attributes.extract_attributes`); the customer record wins.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np

# scipy.stats takes seconds to import: not with the module (the escalation lane imports this module
# and must start at once after a crash, issue 22), but in the background lane's warm-up
# (`incidents.tasks.warm_up`), before the first brief a fresh worker builds.
from sirene.cases.attributes import extract_attributes, extract_error_codes
from sirene.cases.embedding import case_vector
from sirene.cases.models import Case
from sirene.core import clock

MIN_SUPPORT = 3
MIN_SHARE = 0.5
MIN_LIFT = 0.2
MIN_BASELINE = 5
ALPHA = 0.05  # family-wise, over all attribute values tested for one brief
BASELINE_DAYS = 14
BASELINE_LIMIT = 1000  # plenty for a share estimate, and the brief stays fast to build
EXAMPLES = 5

# Provider families: "only GMX and WEB.DE" is one finding, not two half-findings.
_PROVIDERS = {
    "gmail.com": "Google",
    "googlemail.com": "Google",
    "gmx.de": "GMX",
    "gmx.net": "GMX",
    "gmx.at": "GMX",
    "gmx.ch": "GMX",
    "web.de": "WEB.DE",
    "t-online.de": "Telekom",
    "magenta.de": "Telekom",
    "outlook.com": "Microsoft",
    "outlook.de": "Microsoft",
    "hotmail.com": "Microsoft",
    "hotmail.de": "Microsoft",
    "live.com": "Microsoft",
    "live.de": "Microsoft",
    "msn.com": "Microsoft",
    "icloud.com": "Apple",
    "me.com": "Apple",
    "mac.com": "Apple",
    "yahoo.com": "Yahoo",
    "yahoo.de": "Yahoo",
    "aol.com": "AOL",
    "aol.de": "AOL",
    "freenet.de": "freenet",
    "posteo.de": "Posteo",
    "mailbox.org": "mailbox.org",
    "proton.me": "Proton",
    "protonmail.com": "Proton",
    "1und1.de": "1&1",
    "arcor.de": "Vodafone",
    "vodafone.de": "Vodafone",
}
# Companies behind several providers: "only web.de and GMX" is one finding (one mail system).
_PROVIDER_GROUPS = {"GMX": "web.de/GMX", "WEB.DE": "web.de/GMX", "1&1": "web.de/GMX"}


def email_provider(domain: str) -> str:
    """The provider behind an address's domain ("gmx.net" → "GMX"), else the domain itself."""
    domain = domain.lower()
    return _PROVIDERS.get(domain, domain)


# Customer-record attributes whose value carries a version: the family is what customers share.
_FAMILY_OF = {"browser": "browser_family", "os_version": "os"}
_VERSION = re.compile(r"\s*\d[\d.]*\s*$")
_MOBILE_OS = {"ios", "android", "ipados"}
_DESKTOP_OS = {"windows", "macos", "mac os", "linux", "chromeos"}

_STOP = set(
    """aber alle allem also auch auf aus bei beim bin bis bitte bzw dann dass das dem den der des die dies
    diese diesem dieser doch dort durch eine einem einen einer eines einfach erst etwas euch eure euer
    für gibt habe haben hallo hat hatte heute hier ihnen ihr ihre immer jetzt kann kein keine leider mal
    mehr mein meine meinem meinen meiner mich mir mit nach nicht noch nun nur oder ohne schon sehr seit
    sich sie sind über und uns unter viele vielen vom von war warum was weil wenn werden wie wieder wir
    wird wurde zum zur zwar danke gruß grüße freundlichen liebe lieber team mfg
    about after again also and any are been but can cannot could did does dont for from had has have
    hello help her his how into its just not now only our please still that the their them then there
    they this was were what when where which why will with would you your thanks regards""".split()
)
_WORD = re.compile(r"[a-zäöüß][a-zäöüß0-9-]{3,}", re.I)


def _clean_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        text = str(value).strip()
        return text[:80] or None
    return None


@functools.lru_cache(maxsize=4096)
def _text_attributes(text: str) -> tuple[tuple[str, str], ...]:
    """`extract_attributes` (a pure function of the text) remembered: every brief and the
    recent-reporter baseline read the same reports' attributes again."""
    return tuple(extract_attributes(text).items())


def case_attributes(case: Case) -> dict[str, str]:
    """Every attribute we know for this report: customer record > e-mail > text."""
    # What customers say about their setup is in the first lines; a pasted log only costs time.
    attrs: dict[str, str] = dict(_text_attributes(case.text[:3000]))
    customer = case.customer
    for key, value in (customer.attributes or {}).items():
        clean = _clean_value(value)
        if clean is not None:
            attrs[str(key).strip().lower()[:40]] = clean
    for key, family in _FAMILY_OF.items():
        # "Safari 18.2" and "Safari 18.1" are one finding: only the family is compared.
        if key in attrs:
            attrs[family] = _VERSION.sub("", attrs.pop(key)) or family
    # An erased customer keeps only the domain of their address (privacy.services), in the record.
    domain = customer.email_domain.lower() if customer.email else attrs.get("email_domain", "")
    if domain:
        attrs["email_domain"] = domain
        provider = _PROVIDERS.get(domain, domain)
        attrs["email_provider"] = provider
        attrs["email_group"] = _PROVIDER_GROUPS.get(provider, provider)
    if "platform" not in attrs:
        os_name = attrs.get("os", "").lower()
        if os_name in _MOBILE_OS:
            attrs["platform"] = "mobile"
        elif os_name in _DESKTOP_OS:
            attrs["platform"] = "desktop"
    return attrs


def _per_customer(cases: list[Case]) -> dict[str, dict[str, str]]:
    """Attributes per distinct customer (later reports fill in what earlier ones did not say)."""
    out: dict[str, dict[str, str]] = {}
    for case in cases:
        merged = out.setdefault(case.customer.identity, {})
        merged.update(case_attributes(case))
    return out


# Attributes that say one thing several times: a GMX customer is "gmx.de", "GMX" and "web.de/GMX";
# an iPhone is "iPhone 13", "iOS" and "ios". The Bonferroni correction counts each family once
# (three nested views of one fact are not three chances for a coincidence).
_FAMILIES = {
    "email_domain": "email",
    "email_provider": "email",
    "email_group": "email",
    "platform": "system",
    "os": "system",
    "os_version": "system",
    "device": "system",
    "browser": "browser",
    "browser_family": "browser",
}


def common_thread(
    affected: dict[str, dict[str, str]], baseline: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    candidates: list[dict[str, Any]] = []
    families: set[str] = set()
    attributes = sorted({k for attrs in affected.values() for k in attrs})
    for attribute in attributes:
        known = [a[attribute] for a in affected.values() if attribute in a]
        base_known = [b[attribute] for b in baseline.values() if attribute in b]
        # Shares among those who state the attribute; when the baseline hardly ever states it
        # (things customers mention in the text, like "iPhone"), among everybody instead:
        # "6 of 6 mention an iPhone, 0 of 40 others do" is a finding too.
        if len(base_known) >= MIN_BASELINE:
            n, m = len(known), len(base_known)
        else:
            n, m = len(affected), len(baseline)
        if m < MIN_BASELINE or n == 0:
            continue
        families.add(_FAMILIES.get(attribute, attribute))  # each family is a chance for a coincidence
        counts = Counter(v.lower() for v in known)
        base_counts = Counter(v.lower() for v in base_known)
        display = {v.lower(): v for v in known}
        for value_key, a in counts.items():
            if a < MIN_SUPPORT:
                continue
            share = a / n
            b = base_counts.get(value_key, 0)
            base_share = b / m
            if share < MIN_SHARE or share - base_share < MIN_LIFT:
                continue
            p = float(_binom().sf(a - 1, n, (b + 1) / (m + 2)))
            candidates.append(
                {
                    "attribute": attribute,
                    "value": display[value_key],
                    "share": round(share, 3),
                    "baseline_share": round(base_share, 3),
                    "customers": a,
                    "known": n,
                    "p_value": float(f"{p:.2g}"),
                    "_p": p,
                }
            )
    tests = len(families)
    findings = [c for c in candidates if c["_p"] * max(1, tests) < ALPHA]
    for f in candidates:
        del f["_p"]
    findings.sort(key=lambda f: (f["p_value"], -f["share"]))
    return findings


def named_thread(findings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The thread the brief names: the most significant finding's attribute and value, or None."""
    if not findings:
        return None
    top = findings[0]
    value: Any = top["value"]
    if value in ("yes", "no"):  # booleans of the customer record (club_member …)
        value = value == "yes"
    return {
        "attribute": top["attribute"],
        "values": [value],
        "customers": top["customers"],
        "known": top["known"],
    }


def _terms(cases: list[Case]) -> tuple[list[str], list[str]]:
    df: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for case in cases:
        text = case.clean_text or case.text
        df.update({w.lower() for w in _WORD.findall(text)} - _STOP)
        codes.update(set(extract_error_codes(case.text)))
    need = max(2, int(0.3 * len(cases))) if len(cases) > 1 else 1
    terms = [w for w, n in df.most_common(40) if n >= need][:8]
    error_codes = [c for c, n in codes.most_common(5) if n >= min(need, 2)]
    return terms, error_codes


def _representative(cases: list[Case], n: int = 3) -> list[Case]:
    vectors = [(c, case_vector(c)) for c in cases]
    usable = [(c, v) for c, v in vectors if v is not None and len(v) and np.any(v)]
    if len({len(v) for _, v in usable}) != 1:
        return cases[:n]
    mat = np.stack([v for _, v in usable])
    centroid = mat.mean(axis=0)
    order = np.argsort(-(mat @ centroid), kind="stable")
    return [usable[int(i)][0] for i in order[:n]]


def _snippet(case: Case) -> str:
    text = " ".join((case.clean_text or case.text).split())
    return text[:240] + ("…" if len(text) > 240 else "")


# The baseline (recent reporters' attributes) moves slowly; computing it is the expensive part of a
# brief, and briefs are rebuilt as cases arrive. So it is cached per process for a short bucket
# of clock time.
BASELINE_CACHE_SECONDS = 3600
_baseline_cache: dict[tuple[str, int], dict[str, dict[str, str]]] = {}


def clear_baseline_cache() -> None:
    _baseline_cache.clear()


def _recent_reporters(until: Any) -> dict[str, dict[str, str]]:
    from django.db import connection

    key = (
        connection.alias + str(connection.settings_dict.get("NAME")),
        int(until.timestamp()) // BASELINE_CACHE_SECONDS,
    )
    hit = _baseline_cache.get(key)
    if hit is not None:
        return hit
    since = until - timedelta(days=BASELINE_DAYS)
    recent = list(
        Case.objects.filter(received_at__gte=since, received_at__lte=until)
        .select_related("customer")
        .order_by("-received_at")[:BASELINE_LIMIT]
    )
    data = _per_customer(recent[::-1])
    if len(_baseline_cache) > 16:
        _baseline_cache.clear()
    _baseline_cache[key] = data
    return data


def baseline_customers(exclude: set[str], until: Any) -> dict[str, dict[str, str]]:
    return {k: v for k, v in _recent_reporters(until).items() if k not in exclude}


def build(cases: list[Case], *, rate: dict[str, Any] | None = None) -> dict[str, Any]:
    """The brief as a JSON-ready dict (cases: the incident's linked cases, oldest first)."""
    identities: dict[str, Case] = {}
    for case in cases:
        identities.setdefault(case.customer.identity, case)
    examples = [
        {
            "customer": str(case.customer),
            "email": case.customer.email,
            "case_id": case.pk,
            "url": case.get_absolute_url(),
            "subject": case.subject[:200],
        }
        for case in list(identities.values())[:EXAMPLES]
    ]
    affected = _per_customer(cases)
    until = max((c.received_at for c in cases), default=clock.now())
    thread = common_thread(affected, baseline_customers(set(affected), until)) if cases else []
    terms, codes = _terms(cases) if cases else ([], [])
    rep = _representative(cases) if cases else []
    return {
        "customers_affected": len(identities),
        "reports": len(cases),
        "first_seen": min(c.received_at for c in cases).isoformat() if cases else None,
        "last_seen": until.isoformat() if cases else None,
        "examples": examples,
        "what": {
            "summary": _snippet(rep[0]) if rep else "",
            "representative": [
                {"case_id": c.pk, "url": c.get_absolute_url(), "text": _snippet(c)} for c in rep
            ],
            "key_terms": terms,
            "error_codes": codes,
        },
        "common_thread": thread,
        "thread": named_thread(thread),
        "rate": rate or {},
        "built_at": clock.now().isoformat(),
    }


def _binom() -> Any:
    from scipy.stats import binom

    return binom
# -- the thread as people read it: one facet per fact ------------------------------------------------

_SHOWN_VALUES = {
    "android": "Android",
    "ios": "iOS",
    "ipados": "iPadOS",
    "windows": "Windows",
    "macos": "macOS",
    "mac os": "macOS",
    "linux": "Linux",
    "chromeos": "ChromeOS",
    "chrome": "Chrome",
    "firefox": "Firefox",
    "safari": "Safari",
    "edge": "Edge",
}
# Facets that only restate a more specific one: "Mobil oder Desktop: android" and "App oder Web: app" say
# nothing that "Android" and "App-Version 3.5.0" do not already say.
_IMPLIED_BY = {
    "platform": ("os", "device", "app_version"),
    "client": ("app_version", "os", "device"),
    "email_domain": ("email_provider",),
    "email_group": ("email_provider", "email_domain"),
    "browser_family": ("browser",),
    "os_version": ("os",),
}


def shown_value(attribute: str, value: Any) -> str:
    """A thread value as people write it ("Android", not "android"; "iOS"; "3.5.0" as it is)."""
    text = str(value)
    return _SHOWN_VALUES.get(text.strip().lower(), text)


def facets(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The thread's findings with one facet per fact: a finding implied by a more specific one is left
    out, as is a second finding with the same value ("platform: android" next to "os: Android")."""
    present = {str(f.get("attribute", "")) for f in findings}
    seen_values: set[str] = set()
    kept: list[dict[str, Any]] = []
    for f in findings:
        attribute = str(f.get("attribute", ""))
        if any(other in present for other in _IMPLIED_BY.get(attribute, ())):
            continue
        value = shown_value(attribute, f.get("value", ""))
        if value.lower() in seen_values:
            continue
        seen_values.add(value.lower())
        kept.append({**f, "value": value})
    return kept
