"""Read a recipe file's text: at most ``MAX_RECIPE_BYTES``, and never waiting for ever.

``Path.read_text`` reads all of ``/dev/zero`` (for ever) or of a mistaken multi-gigabyte file,
and blocks in ``open`` on a named pipe nobody writes to. Here the file is opened without
blocking, at most one byte more than the limit is read, and a pipe or device (anything but a
regular file) must deliver within ``READ_TIMEOUT_S``.
"""

from __future__ import annotations

import os
import select
import stat
import time
from pathlib import Path

from fibsims.recipe.errors import Problem, RecipeError
from fibsims.recipe.input_limits import MAX_RECIPE_BYTES, READ_TIMEOUT_S

# Not blocking (a pipe with no writer would block the open) and not taking a terminal as the
# controlling one; neither flag exists on Windows, which has no named pipes to open this way.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_MIB = f"{MAX_RECIPE_BYTES / 2**20:g} MiB ({MAX_RECIPE_BYTES:,} bytes)"


class _TooSlow(Exception):
    """A pipe or device delivered nothing more within ``READ_TIMEOUT_S``."""


def read_recipe_text(path: str | Path) -> str:
    """The text of the recipe file at ``path``; ``RecipeError`` if it cannot be a recipe."""
    source = str(path)

    def refuse(message: str) -> RecipeError:
        return RecipeError(source, [Problem("", None, message)])

    try:
        data, file_size = _read_capped(path)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except IsADirectoryError:
        raise refuse("is a directory, not a recipe file") from None
    except _TooSlow:
        raise refuse(
            f"delivered no complete recipe within {READ_TIMEOUT_S:g} s (it is a pipe or a "
            "device, not a regular file); give the recipe file itself"
        ) from None
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    regular = file_size is not None
    if not data and not regular:
        raise refuse("is a pipe or a device that sent nothing; give the recipe file itself")
    if len(data) > MAX_RECIPE_BYTES:
        size = "holds more than"
        if file_size is not None and file_size > MAX_RECIPE_BYTES:  # not so for /proc files
            size = f"is {file_size:,} bytes, more than"
        raise refuse(
            f"{size} {_MIB}, the most a recipe file may hold (a recipe is a few KB); check that "
            "this is the recipe file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text (byte {exc.start}); save the recipe as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it


def _read_capped(path: str | Path) -> tuple[bytes, int | None]:
    """At most ``MAX_RECIPE_BYTES + 1`` bytes of ``path``, and its size if a regular file."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        regular = stat.S_ISREG(info.st_mode)
        deadline = None if regular else time.monotonic() + READ_TIMEOUT_S
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_RECIPE_BYTES:
            chunk = _read_some(fd, MAX_RECIPE_BYTES + 1 - size, deadline)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), info.st_size if regular else None
    finally:
        os.close(fd)


def _read_some(fd: int, count: int, deadline: float | None) -> bytes:
    """Up to ``count`` bytes; waits for a pipe or device only until ``deadline``."""
    while True:
        try:
            return os.read(fd, count)
        except BlockingIOError:  # a pipe or device with nothing to read yet
            if deadline is None:
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not _readable_within(fd, remaining):
                raise _TooSlow from None


def _readable_within(fd: int, seconds: float) -> bool:
    """Whether ``fd`` has data (or its end) within ``seconds``; poll takes any fd, select not."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(seconds * 1000))
    return bool(select.select([fd], [], [], seconds)[0])
