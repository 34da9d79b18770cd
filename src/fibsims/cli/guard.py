"""The exit-code contract of the commands that read or make data (reconstruct, export,
report, estimate): bad input is a message and exit 2, Ctrl-C and the unforeseen exit 1, and
none prints a traceback unless FIBSIMS_DEBUG is set."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

DEBUG_ENV = "FIBSIMS_DEBUG"
T = TypeVar("T")


@functools.cache
def err() -> Console:
    """stderr, made when first printed to: a command that succeeds never imports rich here."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def guarded(
    call: Callable[[], T],
    bad_input: tuple[type[Exception], ...],
    interrupted: str,
    after_bug: str = "",
) -> T:
    """``call()``; ``bad_input`` errors print ``error: ...`` and exit 2; Ctrl-C prints
    ``interrupted`` and exits 1; anything else is reported as a fibsims bug (``after_bug`` says
    what was left) and exits 1."""
    try:
        return call()
    except typer.Exit:
        raise
    except bad_input as error:
        err().print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err().print(interrupted, markup=False)
        raise typer.Exit(1) from None
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        err().print(
            f"internal error: {type(error).__name__}: {error}. This is a fibsims bug; set "
            f"{DEBUG_ENV}=1 to see the traceback.{' ' + after_bug if after_bug else ''}",
            markup=False,
        )
        raise typer.Exit(1) from None
