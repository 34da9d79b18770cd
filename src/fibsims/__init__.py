"""fibsims: automated FIB-SEM / ToF-SIMS slice-and-view with a physics-backed digital twin."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``fibsims.__version__``, looked up when asked for: importing the package stays instant,
    so nothing (a Ctrl-C included) can catch the command mid-import of it."""
    if name != "__version__":
        raise AttributeError(f"module 'fibsims' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fibsims")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0"
