"""The ``fibsims`` command's entry point: a Ctrl-C at any instant, even while Python is still
importing numpy and h5py, ends with a line of text and exit code 1, never a traceback.

Why a module of its own: the console script imports its target module before calling it, so
the handler must sit in a module that imports nothing heavy; the application is imported
inside :func:`main`, under the handler. Once a run starts, its own handlers take over
(:mod:`fibsims.service.signals`).
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from fibsims.cli.app import main as run_app

        run_app()
    except KeyboardInterrupt:
        print("\ninterrupted before anything ran", file=sys.stderr)
        sys.exit(1)
