"""The one error the report raises for a run it cannot report on (bad input, not a bug)."""

from __future__ import annotations


class ReportError(Exception):
    """The run folder holds nothing the report can draw; the message says why and what to do."""
