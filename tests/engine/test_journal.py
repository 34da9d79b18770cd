"""The journal is strict: a torn tail is cut and kept, damage in the middle is named, and
nothing is ever appended onto a fragment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibsims.engine.journal import Journal, JournalCorrupt, decode_record, encode_record


def _journal(tmp_path: Path, n: int = 4) -> Journal:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"entry": "session_started", "first_slice": 0})
    for i in range(n):
        journal.append({"entry": "slice_committed", "slice": i, "t_s": 10.0 * i})
    return journal


def test_every_record_carries_a_checksum_of_its_content():
    line = encode_record({"entry": "slice_committed", "slice": 3, "t_s": 1.5})
    assert json.loads(line)["crc32"] and line.endswith(b"\n")
    assert decode_record(line.rstrip(b"\n")) == {"entry": "slice_committed", "slice": 3, "t_s": 1.5}
    assert decode_record(line.replace(b'"slice": 3', b'"slice": 4')) is None


def test_a_journal_torn_at_every_byte_of_its_last_record_keeps_every_earlier_record(tmp_path):
    journal = _journal(tmp_path)
    whole = journal.path.read_bytes()
    last_start = whole.rstrip(b"\n").rfind(b"\n") + 1
    for cut in range(last_start, len(whole) + 1):
        journal.path.write_bytes(whole[:cut])
        found = journal.repair()
        kept = journal.committed_slices()
        if cut >= len(whole) - 1:  # the whole record, with or without its newline
            assert kept == [0, 1, 2, 3], cut
        else:
            assert kept == [0, 1, 2], cut
            assert found.torn == whole[last_start:cut]
        assert journal.path.read_bytes().endswith(b"\n")
        journal.append({"entry": "slice_committed", "slice": len(kept), "t_s": 99.0})
        assert journal.committed_slices() == [*kept, len(kept)], "appended onto a clean end"


def test_nul_padding_left_by_a_power_cut_is_a_torn_tail(tmp_path):
    journal = _journal(tmp_path)
    with open(journal.path, "ab") as handle:
        handle.write(b"\0" * 64)
    assert journal.committed_slices() == [0, 1, 2, 3]
    found = journal.repair()
    assert found.torn == b"\0" * 64
    aside = list(tmp_path.glob("journal.jsonl.torn-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"\0" * 64, "cut bytes are kept"
    assert journal.scan().clean


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        (b"42", "not a JSON object"),
        (b"{broken", "not JSON"),
        (b'{"entry": "slice_committed", "slice": 1, "t_s": 1.0}', "without its checksum"),
        (b"", "empty"),
    ],
)
def test_a_bad_record_in_the_middle_stops_reading_with_its_line_named(tmp_path, bad, named):
    journal = _journal(tmp_path)
    lines = journal.path.read_bytes().split(b"\n")
    lines[2] = bad
    journal.path.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalCorrupt, match=rf"line 3: .*{named}"):
        journal.entries()
    with pytest.raises(JournalCorrupt):
        journal.repair()
    assert journal.path.read_bytes() == b"\n".join(lines), "nothing was cut"


def test_a_record_with_a_changed_value_fails_its_checksum(tmp_path):
    journal = _journal(tmp_path)
    text = journal.path.read_text().replace('"slice": 1,', '"slice": 7,')
    journal.path.write_text(text)
    with pytest.raises(JournalCorrupt, match=r"line 3: .*checksum does not match"):
        journal.entries()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_after_good_records_are_either_records_or_a_torn_tail(tail):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        journal = _journal(Path(folder), 2)
        with open(journal.path, "ab") as handle:
            handle.write(tail)
        try:
            entries = journal.entries()
        except JournalCorrupt:
            return  # damage followed by a good record: refused, never guessed
        assert [e.get("slice") for e in entries[:3]] == [None, 0, 1]
        journal.repair()
        assert journal.scan().clean
