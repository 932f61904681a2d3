"""Small server-side SVG charts (no JavaScript): the incident sparkline and stacked daily bars.

Every label is escaped; the result is safe to embed in a template with |safe via mark_safe here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#6b7385", "#ad1457"]


def buckets(times: Sequence[datetime], start: datetime, end: datetime, n: int) -> list[int]:
    """Counts of `times` in n equal buckets between start and end (inclusive of the end)."""
    counts = [0] * n
    span = (end - start).total_seconds() or 1.0
    for t in times:
        i = int((t - start).total_seconds() / span * n)
        if 0 <= i <= n:
            counts[min(i, n - 1)] += 1
    return counts


def sparkline(values: Sequence[int], *, width: int = 140, height: int = 28, label: str = "") -> SafeString:
    top = max(values, default=0) or 1
    n = max(len(values), 1)
    bar_w = width / n
    bars = []
    for i, v in enumerate(values):
        h = 0 if v == 0 else max(1.5, v / top * (height - 2))
        bars.append(
            f'<rect x="{i * bar_w:.1f}" y="{height - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="#c62828"><title>{v}</title></rect>'
        )
    return mark_safe(
        f'<svg class="sparkline" role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" '
        f'stroke="#e3e6ec"/>{"".join(bars)}</svg>'
    )


def incident_sparkline(times: Sequence[datetime], now: datetime, *, label: str = "") -> SafeString:
    """Reports per hour from the first report until now (at most the last 48 hours)."""
    if not times:
        return sparkline([], label=label)
    start = max(min(times), now - timedelta(hours=48))
    hours = max(1, min(48, int((now - start).total_seconds() // 3600) + 1))
    return sparkline(buckets(times, start, start + timedelta(hours=hours), hours), label=label)


def stacked_bars(
    days: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    width: int = 760,
    height: int = 240,
    title: str = "",
) -> SafeString:
    """One stacked bar per day (x) with one colour per series (category), a y scale and a legend."""
    left, bottom, top_pad = 34, 34, 10
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    totals = [sum(s[1][i] for s in series) for i in range(len(days))]
    top = max(totals, default=0) or 1
    n = max(len(days), 1)
    slot = plot_w / n
    parts = [f"<title>{escape(title)}</title>"]
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#e3e6ec"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#6b7385">{round(top * frac)}</text>'
        )
    for i, day in enumerate(days):
        x = left + i * slot + slot * 0.15
        y = top_pad + plot_h
        for k, (name, values) in enumerate(series):
            v = values[i]
            if not v:
                continue
            h = v / top * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(day)} · {escape(name)}: {v}</title></rect>'
            )
        if n <= 16 or i % 2 == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'font-size="10" fill="#6b7385">{escape(day)}</text>'
            )
    lx: float = left
    for k, (name, values) in enumerate(series):
        parts.append(
            f'<rect x="{lx}" y="{height - 12}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
        )
        label = f"{name} ({sum(values)})"
        parts.append(
            f'<text x="{lx + 14}" y="{height - 3}" font-size="11" fill="#1d2330">{escape(label)}</text>'
        )
        lx += 24 + 6.5 * len(label)
    return mark_safe(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="100%" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet">{"".join(parts)}</svg>'
    )
