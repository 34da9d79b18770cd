"""The run keeps freed array memory mapped instead of page-faulting it in again every slice."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from fibsims.service import allocator

FAULTS_OF_REPEATED_ALLOCATIONS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from fibsims.service.allocator import keep_freed_memory
    if sys.argv[1] == "kept":
        assert keep_freed_memory()
    def one_slice():  # three 20 MB arrays alive together, then freed, as a slice's images are
        arrays = [np.ones(20_000_000 // 8) for _ in range(3)]
        del arrays
    for _ in range(2):  # warm-up: the heap grows to hold them once
        one_slice()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        one_slice()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _page_faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", FAULTS_OF_REPEATED_ALLOCATIONS, mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_arrays_are_reused_without_page_faulting_them_in_again():
    default, kept = _page_faults("default"), _page_faults("kept")
    assert default > 1000, default  # glibc handed the freed heap back and faults it in anew
    assert kept < default / 10, (kept, default)


def test_where_there_is_no_glibc_nothing_is_set(monkeypatch):
    monkeypatch.setattr(allocator, "_done", False)
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False
