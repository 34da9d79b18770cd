"""fibsims: automated FIB-SEM / ToF-SIMS slice-and-view with a physics-backed digital twin."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fibsims")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
