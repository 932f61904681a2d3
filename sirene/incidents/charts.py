"""Small server-side SVG charts (no JavaScript): the incident sparkline and stacked daily bars.

Every label is escaped; the result is safe to embed in a template with |safe via mark_safe here.
"""

from __future__ import annotations

import math
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


def nice_ticks(top: float, *, count: int = 4) -> list[float]:
    """Round gridline values from 0 up to at least `top` (1, 2, 5 × 10^k steps): every label is the
    exact value of its line, never a rounded half of the maximum."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if top >= 1 and step < 1:
        step = 1
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _tick_label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _legend(
    series: Sequence[tuple[str, Sequence[float]]], *, x0: float, y0: float, width: float, show_total: bool
) -> tuple[list[str], float]:
    """Legend entries that wrap onto new rows instead of running off the drawing. Returns the SVG parts
    and the height used."""
    parts: list[str] = []
    x, y, row_h = x0, y0, 16.0
    for k, (name, values) in enumerate(series):
        total = sum(values)
        label = f"{name} ({_tick_label(total)})" if show_total else name
        item_w = 24 + 6.2 * len(label)
        if x > x0 and x + item_w > x0 + width:
            x, y = x0, y + row_h
        colour = PALETTE[k % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 14:.1f}" y="{y + 9:.1f}" font-size="11" fill="#1d2330">{escape(label)}</text>'
        )
        x += item_w
    return parts, (y - y0) + row_h


def stacked_bars(
    days: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 760,
    height: int = 240,
    title: str = "",
    show_total: bool = True,
) -> SafeString:
    """One stacked bar per x label with one colour per series, a y scale and a legend with every
    series (wrapped onto as many rows as it needs, below the axis labels)."""
    left, axis_h, top_pad = 34, 22, 10
    legend_parts, legend_h = _legend(series, x0=left, y0=0, width=width - left - 8, show_total=show_total)
    plot_w, plot_h = width - left - 8, height - axis_h - top_pad
    totals = [sum(s[1][i] for s in series) for i in range(len(days))]
    ticks = nice_ticks(max(totals, default=0))
    top = ticks[-1]
    n = max(len(days), 1)
    slot = plot_w / n
    parts = [f"<title>{escape(title)}</title>"]
    for value in ticks:
        y = top_pad + plot_h * (1 - value / top)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#e3e6ec"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#6b7385">'
            f"{_tick_label(value)}</text>"
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
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(day)} · {escape(name)}: '
                f"{_tick_label(v)}</title></rect>"
            )
        if n <= 16 or i % 2 == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                f'font-size="10" fill="#6b7385">{escape(day)}</text>'
            )
    total_h = height + legend_h + 6
    parts.append(f'<g transform="translate(0 {height + 4})">{"".join(legend_parts)}</g>')
    return mark_safe(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="100%" '
        f'viewBox="0 0 {width} {total_h:.0f}" preserveAspectRatio="xMinYMin meet">{"".join(parts)}</svg>'
    )


def grouped_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 760,
    height: int = 220,
    title: str = "",
    unit: str = "",
) -> SafeString:
    """Side-by-side bars per x label (one per series), for values that do not add up (durations)."""
    left, axis_h, top_pad = 40, 22, 10
    legend_parts, legend_h = _legend(series, x0=left, y0=0, width=width - left - 8, show_total=False)
    plot_w, plot_h = width - left - 8, height - axis_h - top_pad
    ticks = nice_ticks(max((v for _, values in series for v in values), default=0))
    top = ticks[-1]
    n, k_count = max(len(labels), 1), max(len(series), 1)
    slot = plot_w / n
    bar_w = slot * 0.8 / k_count
    parts = [f"<title>{escape(title)}</title>"]
    for value in ticks:
        y = top_pad + plot_h * (1 - value / top)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#e3e6ec"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#6b7385">'
            f"{_tick_label(value)}</text>"
        )
    for i, label in enumerate(labels):
        x0 = left + i * slot + slot * 0.1
        for k, (name, values) in enumerate(series):
            v = values[i]
            if not v:
                continue
            h = v / top * plot_h
            parts.append(
                f'<rect x="{x0 + k * bar_w:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)} · {escape(name)}: '
                f"{_tick_label(round(v, 1))} {escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + slot * 0.4:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
            f'font-size="10" fill="#6b7385">{escape(label)}</text>'
        )
    total_h = height + legend_h + 6
    parts.append(f'<g transform="translate(0 {height + 4})">{"".join(legend_parts)}</g>')
    return mark_safe(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="100%" '
        f'viewBox="0 0 {width} {total_h:.0f}" preserveAspectRatio="xMinYMin meet">{"".join(parts)}</svg>'
    )
