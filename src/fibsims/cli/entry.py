"""The ``fibsims`` command's entry point: no signal, at any instant, ends in a traceback.

Why a module of its own: the console script imports its target module before calling it, so
the handlers must sit in a module that imports nothing heavy; the application is imported
inside :func:`main`, under them. ``fibsims estimate ...`` runs without typer when its arguments
are plain (:mod:`fibsims.cli.estimate_plain`), otherwise on the group with that command alone
(:func:`fibsims.cli.root.estimate_app`): the same command, options, help and errors, without
importing and building the others (issue 13: its start-up time).

- Ctrl-C raises :class:`Interrupt`, which typer (unlike ``KeyboardInterrupt``, which it turns
  into a silent exit 130) lets through to here: one line, exit code 1. While a run or resume
  works, its own handlers take over (:mod:`fibsims.service.signals`) and hand back to these.
- A Ctrl-C can land inside an import, where Python 3.11 wraps what the handler raises in a
  ``RuntimeError`` (e.g. "Error calling __set_name__"); :func:`_interrupted` finds it in the
  exception's chain, so that is the same one line.
- SIGUSR1 (a run's abort signal on POSIX: ``kill -USR1``) is ignored outside a run: arriving
  while a stopped run's process is still printing or exiting, it must not kill it. Windows has
  no SIGUSR1 (``fibsims abort`` uses a request file there as everywhere); its Ctrl-Break
  (SIGBREAK), which would end the process with no message, is the one line as Ctrl-C is.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


class Interrupt(BaseException):
    """Ctrl-C outside a run's own handling."""


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupt


def _interrupted(error: BaseException) -> bool:
    """Whether ``error`` is a Ctrl-C, or an error Python raised because one cut into its work."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, Interrupt | KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False


def main() -> None:
    signal.signal(signal.SIGINT, _on_interrupt)
    if hasattr(signal, "SIGBREAK"):  # Windows only
        signal.signal(signal.SIGBREAK, _on_interrupt)
    if hasattr(signal, "SIGUSR1"):  # POSIX only
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    try:
        if sys.argv[1:2] == ["estimate"]:
            from fibsims.cli.estimate_plain import exit_plain, plain_arguments

            plain = plain_arguments(sys.argv[2:])
            if plain is not None:
                exit_plain(plain)
            from fibsims.cli.root import estimate_app

            estimate_app()()
        else:
            from fibsims.cli.app import main as run_app

            run_app()
    except SystemExit:
        raise
    except BaseException as error:
        if not _interrupted(error):
            raise
        print("\ninterrupted", file=sys.stderr)
        sys.exit(1)
