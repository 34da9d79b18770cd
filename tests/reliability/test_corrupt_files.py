"""Corrupt or foreign run-folder files (run.json, state.json, journal.jsonl): ``status``,
``resume`` and ``abort`` either work or refuse with a RunFolderError (CLI exit 2) naming the
file; never another exception, never a traceback."""

from __future__ import annotations

import json
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fibsims.data.run_file import RunFileError
from fibsims.engine.journal import encode_record
from fibsims.engine.preflight import PreflightError
from fibsims.instrument.errors import InstrumentError
from fibsims.service.finalize import FinalizeFailed
from fibsims.service.folder import RunFolderError
from fibsims.service.status import abort_run, run_status

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the cases found are pinned below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ACCEPTED = (RunFolderError, PreflightError, InstrumentError)
"""Refusals the CLI turns into a message and exit code 2."""


# -- base folders -----------------------------------------------------------------------------
def _killed_running(folder: Path) -> None:
    lines = (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "journal.jsonl").write_bytes(b"".join(lines[:-1]))  # no session_ended
    state = json.loads((folder / "state.json").read_text())
    state.update(state="running")
    state.pop("outcome", None)
    (folder / "state.json").write_text(json.dumps(state))


@pytest.fixture(scope="module")
def bases(h, paused4, recipe4, tmp_path_factory) -> dict[str, Path]:
    """Folders to damage: paused, killed while running, and killed while finalizing a
    completed run (every slice committed, slices/ still there)."""
    root = tmp_path_factory.mktemp("bases")
    interrupted = h.clone(paused4, root / "interrupted")
    _killed_running(interrupted)
    finalizing = h.clone(paused4, root / "finalizing")
    with pytest.MonkeyPatch.context() as patch:

        def refuse(*args: Any, **kw: Any) -> None:
            raise RunFileError("injected: run.h5 cannot be written")

        patch.setattr("fibsims.service.finalize.put_run_file", refuse)
        with pytest.raises(FinalizeFailed):
            h.resume_inproc(finalizing)
    state = json.loads((finalizing / "state.json").read_text())
    assert state["state"] == "finalizing" and state["outcome"] == "completed"
    return {"paused": paused4, "interrupted": interrupted, "finalizing": finalizing}


# -- what a damaged folder may do -------------------------------------------------------------
def _resume(h) -> Callable[[Path], Any]:
    return lambda folder: h.resume_inproc(folder)


def _check_calls(h, base: Path, name: str, content: bytes) -> None:
    """status, resume and abort on copies of ``base`` with ``name`` replaced by ``content``."""
    with tempfile.TemporaryDirectory() as scratch:
        for label, call in (("status", run_status), ("resume", _resume(h)), ("abort", abort_run)):
            folder = h.clone(base, Path(scratch) / label)
            (folder / name).write_bytes(content)
            try:
                call(folder)
            except ACCEPTED as error:
                assert "Traceback" not in str(error)
            except Exception as error:
                pytest.fail(
                    f"{label} on a damaged {name} ({content[:300]!r}) raised "
                    f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)


# -- strategies -------------------------------------------------------------------------------
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
STATE_KEYS = (
    "state",
    "outcome",
    "reason",
    "pid",
    "pid_started",
    "host",
    "slices_planned",
    "slices_completed",
    "slices_missing",
    "beam_blanked",
    "instrument_time_s",
    "current_step",
    "last_event",
    "updated_utc",
)
MANIFEST_KEYS = (
    "recipe",
    "seed",
    "instrument",
    "truth",
    "recipe_sha256",
    "recipe_model",
    "recipe_text",
    "fibsims_version",
)
ENTRY_KEYS = ("entry", "slice", "t_s", "file_crc32", "file_bytes", "first_slice", "status")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


@st.composite
def damaged_json_file(draw, original: bytes, keys: tuple[str, ...]) -> bytes:
    kind = draw(st.sampled_from(["bytes", "truncated", "json", "field", "dropped"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "truncated":
        return original[: draw(st.integers(0, len(original)))]
    if kind == "json":
        return _json_bytes(draw(JSON))
    record = json.loads(original)
    if kind == "field":
        record[draw(st.sampled_from(keys))] = draw(JSON)
    else:
        record.pop(draw(st.sampled_from(keys)), None)
    return _json_bytes(record)


@st.composite
def damaged_journal(draw, original: bytes) -> bytes:
    lines = original.splitlines(keepends=True)
    where = draw(st.integers(0, len(lines) - 1))
    kinds = ["bytes", "truncated", "forged", "raw-json", "drop", "dup", "swap", "field"]
    kind = draw(st.sampled_from(kinds))
    if kind == "bytes":
        lines[where] = draw(st.binary(max_size=80)) + b"\n"
    elif kind == "truncated":
        return original[: draw(st.integers(0, len(original)))]
    elif kind == "forged":  # any JSON object, with a valid checksum: only a program writes it
        value = draw(st.dictionaries(st.sampled_from(ENTRY_KEYS), JSON, max_size=5))
        lines[where] = _encode_or_raw(value)
    elif kind == "raw-json":
        lines[where] = _json_bytes(draw(JSON)) + b"\n"
    elif kind == "drop":
        del lines[where]
    elif kind == "dup":
        lines.insert(where, lines[where])
    elif kind == "swap":
        other = draw(st.integers(0, len(lines) - 1))
        lines[where], lines[other] = lines[other], lines[where]
    else:  # one field of a real record changed, checksum recomputed
        record = json.loads(lines[where])
        record.pop("crc32")
        record[draw(st.sampled_from(ENTRY_KEYS))] = draw(JSON)
        lines[where] = _encode_or_raw(record)
    return b"".join(lines)


def _encode_or_raw(value: dict[str, Any]) -> bytes:
    try:
        return encode_record(value)
    except ValueError:  # NaN or infinity cannot carry a checksum: written raw
        return _json_bytes(value) + b"\n"


BASES = st.sampled_from(["paused", "interrupted", "finalizing"])


# -- the fuzz tests ---------------------------------------------------------------------------
@pytest.mark.slow
@FUZZ
@given(data=st.data(), base=BASES)
def test_a_damaged_state_json_never_raises_anything_but_a_refusal(h, bases, data, base):
    original = (bases[base] / "state.json").read_bytes()
    _check_calls(h, bases[base], "state.json", data.draw(damaged_json_file(original, STATE_KEYS)))


@pytest.mark.slow
@FUZZ
@given(data=st.data(), base=BASES)
def test_a_damaged_run_json_never_raises_anything_but_a_refusal(h, bases, data, base):
    original = (bases[base] / "run.json").read_bytes()
    _check_calls(h, bases[base], "run.json", data.draw(damaged_json_file(original, MANIFEST_KEYS)))


@pytest.mark.slow
@FUZZ
@given(data=st.data(), base=BASES)
def test_a_damaged_journal_never_raises_anything_but_a_refusal(h, bases, data, base):
    original = (bases[base] / "journal.jsonl").read_bytes()
    _check_calls(h, bases[base], "journal.jsonl", data.draw(damaged_journal(original)))


# -- the cases found, pinned one by one -------------------------------------------------------
def _state_edit(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda state: {**state, **changes}


STATE_CASES = {
    "state-is-a-list": _state_edit(state=[]),
    "state-is-an-object": _state_edit(state={"a": 1}),
    "outcome-is-a-list": _state_edit(state="finalizing", outcome=[]),
    "pid-is-huge": _state_edit(state="running", pid=2**70, pid_started=1.0),
    "pid-is-a-float": _state_edit(state="running", pid=1.5),
}


@pytest.mark.parametrize("case", sorted(STATE_CASES))
def test_a_state_json_of_the_wrong_shape_is_read_or_refused(h, bases, case):
    state = json.loads((bases["interrupted"] / "state.json").read_text())
    _check_calls(h, bases["interrupted"], "state.json", _json_bytes(STATE_CASES[case](state)))


def _works_or_refuses_naming(call: Callable[[Path], Any], folder: Path, name: str) -> None:
    try:
        call(folder)
    except RunFolderError as error:
        assert name in str(error), str(error)


@pytest.mark.parametrize("seed", [2**64, 2**70], ids=["2**64", "2**70"])
def test_a_run_json_seed_beyond_64_bits_is_refused_naming_run_json(h, bases, tmp_path, seed):
    for call in (run_status, h.resume_inproc, abort_run):
        folder = h.clone(bases["paused"], tmp_path / f"seed-{call.__name__}")
        manifest = json.loads((folder / "run.json").read_text())
        manifest["seed"] = seed
        (folder / "run.json").write_text(json.dumps(manifest))
        _works_or_refuses_naming(call, folder, "run.json")


JOURNAL_CASES = {
    "number-line-in-the-middle": lambda lines: [lines[0], b"42\n", *lines[1:]],
    "commit-without-t_s": lambda lines: [
        *lines[:2],
        encode_record({k: v for k, v in json.loads(lines[2]).items() if k not in {"t_s", "crc32"}}),
        *lines[3:],
    ],
    "commit-twice": lambda lines: [*lines[:3], lines[2], *lines[3:]],
    "commits-swapped": lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],
    "negative-slice": lambda lines: [
        *lines[:2],
        encode_record({**_body(lines[2]), "slice": -1}),
        *lines[3:],
    ],
    "t_s-a-string": lambda lines: [
        *lines[:2],
        encode_record({**_body(lines[2]), "t_s": "soon"}),
        *lines[3:],
    ],
    "unknown-entry": lambda lines: [*lines[:2], encode_record({"entry": "x"}), *lines[2:]],
}


def _body(line: bytes) -> dict[str, Any]:
    return {k: v for k, v in json.loads(line).items() if k != "crc32"}


@pytest.mark.parametrize("case", sorted(JOURNAL_CASES))
def test_a_foreign_journal_record_is_refused_naming_journal_and_line(h, bases, tmp_path, case):
    folder = h.clone(bases["interrupted"], tmp_path / "j")
    lines = (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "journal.jsonl").write_bytes(b"".join(JOURNAL_CASES[case](lines)))
    before = h.snapshot(folder)
    for call in (run_status, h.resume_inproc, abort_run):
        with pytest.raises(RunFolderError, match=r"journal\.jsonl line \d+"):
            call(folder)
    assert h.snapshot(folder) == before


@pytest.mark.parametrize("name", ["run.json", "state.json", "journal.jsonl"])
def test_random_bytes_in_a_run_file_are_read_or_refused_naming_it(h, bases, tmp_path, name):
    folder = h.clone(bases["interrupted"], tmp_path / "bytes")
    (folder / name).write_bytes(b"\x8b\x00\xfe{not json at all\n\x00\x00\n{}")
    for call in (run_status, h.resume_inproc, abort_run):
        _works_or_refuses_naming(call, h.clone(folder, tmp_path / f"{call.__name__}"), name)


# -- through the CLI --------------------------------------------------------------------------
CLI_STATES = {
    "instrument-time-a-string": {"instrument_time_s": "x"},
    "beam-blanked-a-list": {"beam_blanked": [1]},
    "progress-fields-strings": {"slices_missing": "none", "current_step": "mill"},
}


@pytest.mark.parametrize("case", sorted(CLI_STATES))
def test_fibsims_status_shows_a_state_json_of_the_wrong_types_without_a_traceback(
    h, bases, tmp_path, case
):
    folder = h.clone(bases["paused"], tmp_path / "render")
    state = json.loads((folder / "state.json").read_text())
    state.update(CLI_STATES[case])
    (folder / "state.json").write_text(json.dumps(state))
    done = h.cli("status", folder)
    h.assert_clean_output(done.stdout, done.stderr)
    assert done.returncode in {0, 2}, done.stderr
    if done.returncode == 2:
        assert "state.json" in done.stderr


def test_the_cli_refuses_a_damaged_run_json_with_exit_2_naming_it(h, bases, tmp_path):
    folder = h.clone(bases["paused"], tmp_path / "cli-run-json")
    (folder / "run.json").write_bytes(b'{"recipe": "quick", "seed": ')
    for command in (("status",), ("resume", "--no-progress"), ("abort",)):
        done = h.cli(command[0], folder, *command[1:])
        assert done.returncode == 2, (command, done.stderr)
        assert "run.json" in done.stderr
        h.assert_clean_output(done.stdout, done.stderr)
