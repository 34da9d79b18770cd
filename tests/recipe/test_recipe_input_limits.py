"""Bounded input: alias bombs, deep nesting, huge files and endless streams are refused fast."""

from __future__ import annotations

import itertools
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from fibsims.recipe import Problem, RecipeError, load_recipe, parse_recipe, source_file
from fibsims.recipe.input_limits import (
    MAX_EXPANDED_CHARS,
    MAX_INTEGER_CHARS,
    MAX_NESTING,
    MAX_NODES,
    MAX_RECIPE_BYTES,
)

SHIPPED = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"
FAST_S = 2.0
"""Generous: each of these is refused in milliseconds."""
LITTLE_MEMORY = 20 * 2**20
"""Peak of Python allocations while refusing; the billion laughs used to take gigabytes."""


def refused(load: Callable[[], object]) -> Problem:
    """The one problem ``load`` reports, checked to come quickly and with little memory."""
    start = time.perf_counter()
    with pytest.raises(RecipeError) as caught:
        load()
    elapsed = time.perf_counter() - start
    assert elapsed < FAST_S, f"took {elapsed:.2f} s"
    tracemalloc.start()  # a second time: tracing allocations makes Python several times slower
    try:
        with pytest.raises(RecipeError):
            load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < LITTLE_MEMORY, f"peak {peak / 2**20:.0f} MiB"
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def laughs(levels: int, fan_out: int, leaf: str = "x") -> str:
    """A billion-laughs document: each level a list of ``fan_out`` aliases to the one before."""
    names = [chr(ord("a") + level) for level in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{','.join([leaf] * fan_out)}]"]
    for before, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{','.join([f'*{before}'] * fan_out)}]")
    return "\n".join(lines) + "\n"


# -- alias bombs


def test_the_272_byte_billion_laughs_is_refused_fast_naming_the_limit() -> None:
    text = laughs(levels=8, fan_out=9)  # 9**8 = 43 million values; took 107 s and 12 GB
    assert len(text.encode()) <= 272
    problem = refused(lambda: parse_recipe(text))
    assert problem.line == 5  # the first alias whose expansion crosses the limit
    assert problem.message.startswith("the alias *d stands for 7,381 YAML nodes")
    assert f"past {MAX_NODES:,} once aliases are expanded" in problem.message
    assert "alias bomb" in problem.message


@pytest.mark.parametrize(("levels", "fan_out"), [(9, 9), (12, 10), (26, 30)])
def test_larger_billion_laughs_are_refused_as_fast(levels: int, fan_out: int) -> None:
    problem = refused(lambda: parse_recipe(laughs(levels, fan_out)))
    assert "alias bomb" in problem.message


def test_aliases_repeating_a_long_text_are_refused_by_its_expanded_length() -> None:
    # 210 KB that, printed in the 'top level must be a mapping' message, used to take 3.9 GB
    text = f"- &a {'x' * 200_000}\n- [{', '.join(['*a'] * 10_000)}]\n"
    problem = refused(lambda: parse_recipe(text))
    assert problem.line == 2
    assert problem.message.startswith("the alias *a stands for 200,000 characters")
    assert f"{MAX_EXPANDED_CHARS:,} characters of text" in problem.message


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    problem = refused(lambda: parse_recipe("a: &a [1, *a]\n"))
    assert problem.line == 1
    assert "the alias *a is inside the list or mapping it names" in problem.message


def test_a_document_of_too_many_nodes_without_aliases_is_refused() -> None:
    text = f"description: [{', '.join(['x'] * MAX_NODES)}]\n"
    problem = refused(lambda: parse_recipe(text))
    assert problem.message.startswith(f"more than {MAX_NODES:,} YAML nodes")


def test_a_recipe_with_anchors_and_merge_keys_still_loads() -> None:
    text = SHIPPED.read_text() + (
        "suspenders:\n"
        "  beam_current: &watch {action: wait, poll_s: 30, max_wait_s: 3600}\n"
        "  chamber_pressure:\n"
        "    <<: *watch\n"
        "    max_pa: 0.002\n"
        "on_error: {retry_backoff_s: &backoff 10, retry_attempts: 4}\n"
    )
    text = text.replace("resolution: [192, 144]", "resolution: &image [192, 144]")
    text = text.replace("resolution: [64, 48]", "resolution: *image")
    recipe = parse_recipe(text)
    assert recipe.suspenders.chamber_pressure.poll_s == 30
    assert recipe.suspenders.chamber_pressure.max_pa == 0.002
    assert recipe.slice[3].resolution == (192, 144)  # type: ignore[union-attr]


def test_a_wrong_value_in_merged_settings_still_points_at_its_line() -> None:
    text = SHIPPED.read_text() + (
        "suspenders:\n"
        "  beam_current: &watch {poll_s: 30}\n"
        "  chamber_pressure:\n"
        "    <<: *watch\n"
        "    max_pa: 5\n"
    )
    problem = refused(lambda: parse_recipe(text))
    line = text.splitlines().index("    max_pa: 5") + 1
    assert (problem.path, problem.line) == ("suspenders.chamber_pressure.max_pa", line)


# -- nesting


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 500 + "]" * 500 + "\n", 1),
        ("{a: " * 500 + "1" + "}" * 500 + "\n", 1),
        ("".join(" " * depth + "a:\n" for depth in range(500)) + " " * 500 + "1\n", 33),
        ("".join(" " * (2 * depth) + "- \n" for depth in range(500)) + " " * 1000 + "1\n", 33),
        ("[" * 50_000 + "]" * 50_000 + "\n", 1),
    ],
    ids=["flow lists", "flow mappings", "block mappings", "block lists", "50000 deep"],
)
def test_deep_nesting_is_one_clear_problem_not_a_recursion_error(text: str, line: int) -> None:
    problem = refused(lambda: parse_recipe(text))
    assert problem.line == line
    assert problem.message.startswith(
        f"lists and mappings nest more than {MAX_NESTING} levels deep at column "
    )


def test_nesting_at_the_limit_is_not_refused_for_depth() -> None:
    with pytest.raises(RecipeError) as caught:  # not a recipe, but not refused as too deep
        parse_recipe("[" * MAX_NESTING + "]" * MAX_NESTING + "\n")
    assert "levels deep" not in str(caught.value)


def test_aliases_nesting_past_the_limit_are_refused_at_the_alias() -> None:
    half = MAX_NESTING // 2 + 1
    text = f"a: &a {'[' * half}1{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    problem = refused(lambda: parse_recipe(text))
    assert problem.line == 2
    assert problem.message.startswith(
        f"the alias *a nests lists and mappings more than {MAX_NESTING} levels deep"
    )


def test_a_long_chain_of_merge_keys_is_refused_not_a_recursion_error() -> None:
    text = "m0: &m0 {x: 1}\n" + "".join(
        f"m{i}: &m{i} {{<<: *m{i - 1}, y{i}: 1}}\n" for i in range(1, 2000)
    )
    problem = refused(lambda: parse_recipe(text))
    assert f"more than {MAX_NESTING} levels deep" in problem.message


# -- numbers too long to convert


@pytest.mark.parametrize("number", ["1" * 5000, "1" + ":1" * 100_000, "0x" + "f" * 5000])
def test_an_endless_integer_is_refused_with_its_line(number: str) -> None:
    text = SHIPPED.read_text().replace("seed: 811", f"seed: {number}")
    problem = refused(lambda: parse_recipe(text))
    assert problem.line == next(i for i, x in enumerate(text.splitlines(), 1) if "seed" in x)
    assert f"the limit is {MAX_INTEGER_CHARS}" in problem.message


# -- size of the file


def test_a_file_larger_than_the_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(8 * 2**30)  # 8 GiB, sparse: reading it all would take seconds and 8 GB
    problem = refused(lambda: load_recipe(path))
    assert problem == Problem(
        "",
        None,
        f"is {8 * 2**30:,} bytes, more than 1 MiB ({MAX_RECIPE_BYTES:,} bytes), the most a "
        "recipe file may hold (a recipe is a few KB); check that this is the recipe file",
    )


def test_a_file_of_exactly_the_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.yaml"
    text = SHIPPED.read_text()
    path.write_text(text + "#" * (MAX_RECIPE_BYTES - len(text.encode()) - 1) + "\n")
    assert path.stat().st_size == MAX_RECIPE_BYTES
    assert load_recipe(path).recipe == "quick"
    with path.open("a") as file:
        file.write("\n")
    assert "more than 1 MiB" in refused(lambda: load_recipe(path)).message


def test_text_longer_than_the_cap_is_refused_by_parse_recipe() -> None:
    problem = refused(lambda: parse_recipe("#" * (MAX_RECIPE_BYTES + 1)))
    assert problem.message.startswith(f"is {MAX_RECIPE_BYTES + 1:,} characters long")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_dev_zero_is_refused_at_the_cap() -> None:
    problem = refused(lambda: load_recipe("/dev/zero"))
    assert problem.message.startswith("holds more than 1 MiB")


def test_windows_line_ends_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes(SHIPPED.read_bytes().replace(b"\n", b"\r\n"))
    assert load_recipe(path) == load_recipe(SHIPPED)


# -- pipes

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
def test_a_named_pipe_nobody_writes_to_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    problem = refused(lambda: load_recipe(fifo))
    assert problem.message.startswith("is a pipe or a device that sent nothing")


@needs_fifo
def test_a_recipe_written_into_a_named_pipe_loads(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    opened = threading.Event()

    def write() -> None:
        fd = os.open(fifo, os.O_RDWR)  # a writer is there before the reader opens
        opened.set()
        time.sleep(0.2)  # the reader waits for the data
        os.write(fd, SHIPPED.read_bytes())
        os.close(fd)

    writer = threading.Thread(target=write)
    writer.start()
    opened.wait()
    try:
        assert load_recipe(fifo).recipe == "quick"
    finally:
        writer.join()


@needs_fifo
def test_a_pipe_that_never_finishes_is_given_up_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_file, "READ_TIMEOUT_S", 0.3)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR)  # a writer that keeps the pipe open and sends half a recipe
    try:
        os.write(fd, b"recipe: quick\n")
        problem = refused(lambda: load_recipe(fifo))
    finally:
        os.close(fd)
    assert problem.message.startswith("delivered no complete recipe within 0.3 s")
