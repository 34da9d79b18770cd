"""A small on-disk cache of numbers the twin computes once per parameter set (the porosity
calibration), shared across processes.

Why: every ``fibsims run``, ``resume`` and test process opens a twin, and the calibration (a
reference packing relaxed at several intensities, then a bisection of the binder reach) is the
largest part of opening it, for a result that depends on nothing but the parameters and the
code. A cache must never change a result, so:

- the key hashes the arguments (their exact ``repr``) with the source of every module of the
  twin and the versions of Python, NumPy and SciPy: editing any of them, or upgrading, misses
  the cache instead of reading a value the new code would not compute;
- floats are stored as ``float.hex`` (exact), and a value is used only if it parses into
  exactly the fields asked for;
- a cache that cannot be read (missing, corrupt, foreign) or written (read-only, full disk) is
  ignored: the value is computed as if there were no cache.

Where: ``$FIBSIMS_TWIN_CACHE`` if set (``off`` disables it), else
``$XDG_CACHE_HOME/fibsims/twin`` (``~/.cache/fibsims/twin``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy

CACHE_ENV = "FIBSIMS_TWIN_CACHE"
CACHE_OFF = "off"
FORMAT = 1  # bump when the file layout changes


def cache_folder() -> Path | None:
    """The cache's folder, or None when it is switched off."""
    setting = os.environ.get(CACHE_ENV, "")
    if setting.strip().lower() == CACHE_OFF:
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fibsims" / "twin"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the twin's source files and the numerical libraries' versions."""
    digest = hashlib.sha256()
    for name in (platform.python_version(), np.__version__, scipy.__version__, str(FORMAT)):
        digest.update(name.encode() + b"\0")
    package = Path(__file__).parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(kind: str, *arguments: object) -> str:
    """The file name of ``kind`` computed from ``arguments`` by the current code."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(kind.encode() + b"\0")
    for argument in arguments:
        digest.update(repr(argument).encode() + b"\0")
    return f"{kind}-{digest.hexdigest()[:40]}.json"


def load_floats(key: str, fields: tuple[str, ...]) -> dict[str, float] | None:
    """The stored floats of ``key`` (exactly ``fields``, all finite), or None."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        record = json.loads((folder / key).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or set(record) != set(fields):
            return None
        values = {name: float.fromhex(record[name]) for name in fields}
    except (OSError, ValueError, TypeError, UnicodeDecodeError):
        return None
    if not all(math.isfinite(v) for v in values.values()):
        return None
    return values


def store_floats(key: str, values: dict[str, float]) -> None:
    """Store ``values`` under ``key`` atomically (a reader sees the whole file or none);
    any failure is ignored (the next process computes again)."""
    folder = cache_folder()
    if folder is None:
        return
    record = {name: float(v).hex() for name, v in values.items()}
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream)
            os.replace(temporary, folder / key)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
