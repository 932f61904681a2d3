"""The early warning's numbers (read from the environment once, see README "Configuration")."""

from __future__ import annotations

import os

EARLY_CUSTOMERS = int(os.environ.get("SIRENE_EARLY_WARNING_CUSTOMERS", "3"))
EARLY_MINUTES = float(os.environ.get("SIRENE_EARLY_WARNING_MINUTES", "60"))
QUIET_DAYS = float(os.environ.get("SIRENE_EARLY_WARNING_QUIET_DAYS", "14"))
