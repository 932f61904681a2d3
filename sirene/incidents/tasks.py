"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did."""

from __future__ import annotations


def tick() -> int:
    return 0
