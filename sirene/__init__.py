"""sirene: tech-case tracking, known problems, critical-incident detection and escalation."""

__version__ = "0.1.0"
