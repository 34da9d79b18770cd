"""How big a recipe file may be, read and parsed: the limits that keep loading fast and small.

A recipe is a few KB nesting about six levels. Without limits a 300-byte file of nested aliases
(a "billion laughs") stands for hundreds of millions of values, a few hundred brackets exhaust
Python's stack inside PyYAML, and ``/dev/zero`` is read for ever. Each limit is far above any
real recipe and far below what would cost a second or a noticeable amount of memory.
"""

from __future__ import annotations

MAX_RECIPE_BYTES = 1024 * 1024
"""1 MiB: hundreds of times a real recipe; parsing that much YAML takes well under a second."""

READ_TIMEOUT_S = 10.0
"""A pipe or device (not a regular file) that has not delivered a recipe by then never will."""

MAX_NESTING = 32
"""Levels of lists and mappings inside each other; a recipe needs about 6, PyYAML recurses per
level (aliases expanded), so this also keeps the loader far from Python's recursion limit."""

MAX_NODES = 10_000
"""Keys, values, lists and mappings once aliases are expanded; a recipe has a few hundred, a
billion-laughs file stands for millions."""

MAX_EXPANDED_CHARS = MAX_RECIPE_BYTES
"""Characters of text once aliases are expanded: aliases may not make more text than a file
could hold (an alias repeated 10,000 times to a long text would be gigabytes in messages)."""

MAX_INTEGER_CHARS = 100
"""A recipe integer has at most ~20 digits; a longer one is slow to convert (YAML's base-60
integers take quadratic time) or, past 4,300 digits, refused by Python with a traceback."""
