"""Cross-field rules: errors that point at the offending field, not at the model holding it."""

from __future__ import annotations

from pydantic_core import PydanticCustomError

RULE_ERROR = "recipe_rule"
"""Error type of the cross-field checks. Its context carries ``at``, the dotted path of the
offending field relative to the error location, so the loader can point at the right line."""


def rule(at: str, message: str) -> PydanticCustomError:
    """A cross-field error pointing at ``at`` (dotted, relative to the validated field)."""
    return PydanticCustomError(RULE_ERROR, "{message}", {"message": message, "at": at})
