"""The journal survives a kill or a power cut at any byte: a torn tail is cut (and kept aside as
journal.jsonl.torn-*) and the resumed run equals an uninterrupted one; a bad line in the middle
makes resume, status and abort refuse, naming the line, and changes nothing."""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path

import pytest

from fibsims.engine.journal import encode_record
from fibsims.service.folder import RunFolderError
from fibsims.service.status import abort_run, run_status

NUL64 = b"\x00" * 64


def _as_killed(folder: Path) -> None:
    """state.json as a process killed while running leaves it (its pid is this process, which
    the folder reader never takes for a live run)."""
    path = folder / "state.json"
    state = json.loads(path.read_text())
    state.update(state="running", reason="")
    state.pop("outcome", None)
    path.write_text(json.dumps(state))


def _resume_and_check(h, whole4: Path, folder: Path, journal: bytes) -> str | None:
    """Write ``journal``, resume, check the outcome; the problem found, or None."""
    (folder / "journal.jsonl").write_bytes(journal)
    try:
        report = h.resume_inproc(folder)
        assert report.status == "completed", report.summary.get("reason")
        h.assert_completed_like(whole4, folder)
    except BaseException as error:  # collected, reported per offset
        if isinstance(error, KeyboardInterrupt):
            raise
        return f"{type(error).__name__}: {error}".splitlines()[0][:200] or traceback.format_exc()
    return None


def _torn_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("journal.jsonl.torn-*"))


def _cut_at_offsets(
    h, whole4, paused4, tmp_path, head: list[bytes], last: bytes, stride: int = 1
) -> None:
    """``head`` then ``last`` cut at every ``stride``-th byte offset (0 .. len(last), with
    both ends always), each resumed and compared with the uninterrupted run."""
    problems: dict[int, str] = {}
    edges = {0, 1, 2, len(last) - 2, len(last) - 1, len(last)}
    offsets = sorted(set(range(0, len(last) + 1, stride)) | edges)
    for offset in offsets:
        folder = h.clone(paused4, tmp_path / f"cut{offset}")
        _as_killed(folder)
        problem = _resume_and_check(h, whole4, folder, b"".join(head) + last[:offset])
        torn = _torn_files(folder)
        if problem is None and 0 < offset < len(last) - 1:
            kept = torn[0].read_bytes() if len(torn) == 1 else None
            if kept != last[:offset]:
                problem = f"torn tail not kept aside as journal.jsonl.torn-*: {torn}"
        elif problem is None and torn:
            problem = f"an intact journal was cut: {[p.name for p in torn]}"
        if problem is not None:
            problems[offset] = problem
    assert not problems, f"{len(problems)} of {len(offsets)} offsets fail: " + "; ".join(
        f"@{k}: {v}" for k, v in list(problems.items())[:6]
    )


@pytest.mark.slow
def test_a_commit_cut_at_every_byte_resumes_to_the_uninterrupted_run(
    h, whole4, paused4, tmp_path, no_fsync
):
    lines = h.journal_lines(paused4)  # started, commit 0, 1, 2, session_ended(paused)
    assert json.loads(lines[3])["entry"] == "slice_committed"
    _cut_at_offsets(h, whole4, paused4, tmp_path, lines[:3], lines[3])


@pytest.mark.slow
def test_a_session_end_cut_anywhere_resumes_to_the_uninterrupted_run(
    h, whole4, paused4, tmp_path, no_fsync
):
    lines = h.journal_lines(paused4)
    assert json.loads(lines[-1])["entry"] == "session_ended"
    _cut_at_offsets(h, whole4, paused4, tmp_path, lines[:-1], lines[-1], stride=7)


@pytest.mark.slow
def test_a_session_start_cut_anywhere_resumes_to_the_uninterrupted_run(
    h, whole4, paused4, tmp_path, no_fsync
):
    lines = h.journal_lines(paused4)
    started = encode_record(
        {
            "entry": "session_started",
            "first_slice": 3,
            "start_time_s": json.loads(lines[3])["t_s"],
            "wall_utc": "2026-11-29T13:28:55+00:00",
        }
    )
    _cut_at_offsets(h, whole4, paused4, tmp_path, lines, started, stride=11)


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(lambda lines: lines[:4], id="after-an-intact-commit"),
        pytest.param(lambda lines: [*lines[:3], lines[3][:50]], id="after-half-a-commit"),
        pytest.param(lambda lines: [*lines[:3], lines[3][:-1]], id="after-a-commit-sans-newline"),
        pytest.param(lambda lines: lines, id="after-the-session-end"),
    ],
)
def test_sixty_four_nul_bytes_of_a_power_cut_are_cut_and_the_run_resumes(
    h, whole4, paused4, tmp_path, tail
):
    folder = h.clone(paused4, tmp_path / "nul")
    _as_killed(folder)
    journal = b"".join(tail(h.journal_lines(paused4))) + NUL64
    problem = _resume_and_check(h, whole4, folder, journal)
    assert problem is None, problem
    torn = _torn_files(folder)
    assert len(torn) == 1 and torn[0].read_bytes().endswith(NUL64)


def test_nul_bytes_ending_in_a_newline_are_a_torn_tail_too(h, whole4, paused4, tmp_path):
    folder = h.clone(paused4, tmp_path / "nulline")
    _as_killed(folder)
    journal = b"".join(h.journal_lines(paused4)[:4]) + NUL64 + b"\n"
    assert _resume_and_check(h, whole4, folder, journal) is None
    assert len(_torn_files(folder)) == 1


BAD_LINES = {
    "wrong-checksum": lambda line: re.sub(rb'"crc32": "\w{8}"', b'"crc32": "00000000"', line),
    "garbage": lambda line: b"\xff\xfe garbage \x00\n",
    "nul-filled": lambda line: b"\x00" * (len(line) - 1) + b"\n",
    "empty": lambda line: b"\n",
    "json-number": lambda line: b"42\n",
    "no-checksum": lambda line: (
        json.dumps({k: v for k, v in json.loads(line).items() if k != "crc32"}).encode() + b"\n"
    ),
    "edited-value": lambda line: line.replace(b'"slice": 0', b'"slice": 9'),
}


@pytest.mark.parametrize("damage", sorted(BAD_LINES))
def test_a_bad_line_in_the_middle_is_refused_naming_it_and_nothing_changes(
    h, paused4, tmp_path, damage
):
    folder = h.clone(paused4, tmp_path / "bad")
    _as_killed(folder)
    lines = h.journal_lines(folder)
    lines[1] = BAD_LINES[damage](lines[1])  # line 2: the commit of slice 0
    (folder / "journal.jsonl").write_bytes(b"".join(lines))
    before = h.snapshot(folder)
    for call in (h.resume_inproc, run_status, abort_run):
        with pytest.raises(RunFolderError, match=r"journal\.jsonl line 2\b"):
            call(folder)
        assert h.snapshot(folder) == before, f"{call.__name__} changed the folder"
    assert not _torn_files(folder)


def test_the_cli_refuses_a_journal_damaged_in_the_middle_with_exit_2(h, paused4, tmp_path):
    folder = h.clone(paused4, tmp_path / "badcli")
    lines = h.journal_lines(folder)
    lines[2] = b"\x00" * 40 + b"\n"  # line 3: the commit of slice 1
    (folder / "journal.jsonl").write_bytes(b"".join(lines))
    before = h.snapshot(folder)
    done = h.cli("resume", folder, "--no-progress")
    assert done.returncode == 2, done.stderr
    assert "line 3" in done.stderr
    h.assert_clean_output(done.stdout, done.stderr)
    assert h.snapshot(folder) == before


def test_status_reports_a_torn_tail_without_cutting_it(h, paused4, tmp_path):
    folder = h.clone(paused4, tmp_path / "torn-status")
    _as_killed(folder)
    journal = b"".join(h.journal_lines(folder)[:4]) + b'{"crc32": "0'
    (folder / "journal.jsonl").write_bytes(journal)
    status = run_status(folder)
    assert status["state"] == "interrupted" and status["slices_completed"] == 3
    assert "damaged bytes" in status.get("journal", "")
    assert (folder / "journal.jsonl").read_bytes() == journal, "status only reads"
