"""The dashboard chart: every category in the legend, y labels that are the values of their lines."""

from __future__ import annotations

import re

from sirene.incidents.charts import nice_ticks, stacked_bars


def test_ticks_are_round_and_reach_the_maximum() -> None:
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(17) == [0, 5, 10, 15, 20]
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(0) == [0, 1]


def test_each_label_sits_on_its_own_value_and_all_six_categories_are_in_the_legend() -> None:
    names = ["Fehlermeldung im Mitgliederbereich / in der App", "Sync App ↔ Mitgliederbereich", "Login",
             "Lektion / Inhalt öffnet nicht", "Checkout", "Sonstiges"]
    series = [(name, [k + 1, 0, 1]) for k, name in enumerate(names)]
    svg = str(stacked_bars(["01.12.", "02.12.", "03.12."], series, width=760, height=240))
    for name in names:
        assert name in svg
    # Legend entries stay inside the drawing's width.
    xs = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="11"', svg)]
    assert len(xs) == 6 and max(xs) < 760
    # Gridline y and label y agree for every label (label baseline = line + 4).
    lines = [float(y) for y in re.findall(r'<line x1="34" y1="([\d.]+)"', svg)]
    labels = re.findall(r'<text x="30" y="([\d.]+)" text-anchor="end" font-size="10" fill="#6b7385">(\d+)</text>', svg)
    top_pad, plot_h, top = 10, 240 - 22 - 10, int(labels[-1][1])
    for (y, value), line_y in zip(labels, lines, strict=True):
        assert abs(float(y) - 4 - line_y) < 0.01
        assert abs(line_y - (top_pad + plot_h * (1 - int(value) / top))) < 0.1
