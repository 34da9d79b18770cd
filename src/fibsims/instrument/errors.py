"""Errors an instrument backend raises, classified so the engine can choose a policy."""

from __future__ import annotations


class InstrumentError(Exception):
    """A device refused or failed an action. The message says what and how to fix it."""


class TransientInstrumentError(InstrumentError):
    """A fault that may clear on retry (a timeout, a busy device)."""


class HardwareFault(InstrumentError):
    """A fault that needs a person (a vacuum interlock, a source that will not ignite)."""


class SafetyInterlock(InstrumentError):
    """The instrument tripped a safety interlock: the run must stop and not be retried."""
