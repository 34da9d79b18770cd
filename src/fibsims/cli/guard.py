"""The exit-code contract of the commands that read or make data (reconstruct, export,
report, estimate): bad input is a message and exit 2, Ctrl-C and the unforeseen exit 1, and
none prints a traceback unless FIBSIMS_DEBUG is set.

:func:`reported` keeps the contract without typer (``fibsims estimate`` can run without it,
:mod:`fibsims.cli.estimate_plain`); :func:`guarded` is it for a typer command."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

DEBUG_ENV = "FIBSIMS_DEBUG"
T = TypeVar("T")


class Failed(Exception):
    """The command failed and said why: it exits with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@functools.cache
def err() -> Console:
    """stderr, made when first printed to: a command that succeeds never imports rich here."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def reported(
    call: Callable[[], T],
    bad_input: tuple[type[Exception], ...],
    interrupted: str,
    after_bug: str = "",
    passed: tuple[type[Exception], ...] = (),
) -> T:
    """``call()``; ``bad_input`` errors print ``error: ...`` and fail with 2; Ctrl-C prints
    ``interrupted`` and fails with 1; anything else but ``passed`` is reported as a fibsims bug
    (``after_bug`` says what was left) and fails with 1 (:class:`Failed`)."""
    try:
        return call()
    except passed:
        raise
    except bad_input as error:
        err().print(f"error: {error}", markup=False)
        raise Failed(2) from None
    except KeyboardInterrupt:
        err().print(interrupted, markup=False)
        raise Failed(1) from None
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        err().print(
            f"internal error: {type(error).__name__}: {error}. This is a fibsims bug; set "
            f"{DEBUG_ENV}=1 to see the traceback.{' ' + after_bug if after_bug else ''}",
            markup=False,
        )
        raise Failed(1) from None


def guarded(
    call: Callable[[], T],
    bad_input: tuple[type[Exception], ...],
    interrupted: str,
    after_bug: str = "",
) -> T:
    """:func:`reported` in a typer command: a failure exits with its code (``typer.Exit``), and
    a ``typer.Exit`` from ``call`` passes."""
    import typer

    try:
        return reported(call, bad_input, interrupted, after_bug, passed=(typer.Exit,))
    except Failed as failed:
        raise typer.Exit(failed.code) from None
