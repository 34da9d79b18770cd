"""``fibsims estimate`` itself, and how it runs without typer when its arguments are plain.

Why without typer: importing typer and parsing with it is an eighth of the command's start-up
(issue 13). :func:`plain_arguments` reads only what it cannot read differently from typer: the
recipe, an existing readable file, and the command's own options, each spelt in full as a token
of its own (``--json``, ``--truth``, ``--instrument``/``-i`` VALUE once, ``--set`` VALUE), with
no value that could pass for an option. Anything else (help, a typo, ``--set=...``, ``--``, a
missing or second recipe, shell completion) is typer's, which answers exactly as before.
:func:`exit_plain` then exits as typer's standalone mode does; the typer command
(:mod:`fibsims.cli.estimate_commands`) runs the same :func:`run_estimate`. A test holds the two
ways to the same output and exit code.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn, TextIO, cast

from fibsims.cli.guard import Failed, reported

FLAGS = {"--json": "as_json", "--truth": "truth"}
INSTRUMENT = ("--instrument", "-i")
SET = "--set"


def run_estimate(
    recipe: Path, instrument: str, *, as_json: bool, truth: bool, overrides: Sequence[str]
) -> int:
    """Print the estimate; its exit code: 0, or 2 when the instrument cannot run the recipe as
    written (the estimate is printed with each problem). A bad recipe or backend is an
    ``error:`` line and :class:`~fibsims.cli.guard.Failed` (2)."""
    from fibsims.service.estimate import (
        EstimateError,
        EstimateRequest,
        describe_estimate,
        estimate_recipe,
    )

    result = reported(
        lambda: estimate_recipe(
            EstimateRequest(recipe, instrument, truth=truth, overrides=tuple(overrides))
        ),
        (EstimateError,),
        "interrupted",
    )
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        from rich.console import Console  # not for --json (issue 13: start-up time)

        out = Console(highlight=False, soft_wrap=True)
        for line in describe_estimate(result):
            out.print(line, markup=False)
    return 2 if result["problems"] else 0  # 2: the instrument cannot run it as written


@dataclass(frozen=True)
class PlainArguments:
    recipe: Path
    instrument: str = "sim"
    as_json: bool = False
    truth: bool = False
    overrides: tuple[str, ...] = ()


def plain_arguments(args: Sequence[str]) -> PlainArguments | None:
    """``args`` (after ``estimate``) as typer would read them, or None if they are not plain."""
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return None  # a shell asks for completions: typer answers
    recipe: str | None = None
    instrument: str | None = None
    flags: set[str] = set()
    overrides: list[str] = []
    tokens = iter(args)
    for token in tokens:
        if token in FLAGS:
            flags.add(FLAGS[token])
        elif token in (*INSTRUMENT, SET):
            value = next(tokens, "")
            if not _plain(value) or (token in INSTRUMENT and instrument is not None):
                return None
            if token == SET:
                overrides.append(value)
            else:
                instrument = value
        elif _plain(token) and recipe is None:
            recipe = token
        else:
            return None
    if recipe is None or not (os.path.isfile(recipe) and os.access(recipe, os.R_OK)):
        return None  # typer says what is wrong with it, or the service does
    return PlainArguments(
        Path(recipe),
        instrument if instrument is not None else "sim",
        "as_json" in flags,
        "truth" in flags,
        tuple(overrides),
    )


def _plain(token: str) -> bool:
    """A token typer can only read as a value: not empty, not an option."""
    return token != "" and not token.startswith("-")


def exit_plain(arguments: PlainArguments) -> NoReturn:
    """Run the estimate and exit as typer's standalone mode would: with the command's code, 1
    quietly when the reader of its output went away (a closed pipe), 130 on KeyboardInterrupt.

    Without the cyclic garbage collector: the process ends once the estimate is printed. Until
    then the collector would only walk the objects of the modules being imported, some seventy
    times (2-4 % of the command's time), and the interpreter's last collection at exit every
    object the process is about to give back anyway (frozen out of it: a tenth). The memory is
    the same few tens of MB; nothing the estimate opens is left to a finalizer."""
    gc.disable()
    try:
        code = run_estimate(
            arguments.recipe,
            arguments.instrument,
            as_json=arguments.as_json,
            truth=arguments.truth,
            overrides=arguments.overrides,
        )
    except Failed as failed:
        code = failed.code
    except KeyboardInterrupt:
        code = 130
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        sys.stdout = cast(TextIO, _PipeGone(sys.stdout))
        sys.stderr = cast(TextIO, _PipeGone(sys.stderr))
        code = 1
    gc.freeze()
    sys.exit(code)


class _PipeGone:
    """A stream whose flush ignores a closed pipe, so the interpreter's last flush stays quiet
    (click's ``PacifyFlushWrapper``)."""

    def __init__(self, wrapped: IO[Any]) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as error:
            if error.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
