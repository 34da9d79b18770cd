"""The twin's on-disk cache of the porosity calibration never changes a result: a hit equals
the computation bit for bit, and a corrupt, foreign or unwritable cache is ignored."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fibsims_twin.calibration import PhaseStatistics, calibrate, compute_calibration
from fibsims_twin.parameters import MicrostructureParameters, PhantomParameters
from fibsims_twin.result_cache import CACHE_ENV, cache_key

P, MICRO = PhantomParameters(), MicrostructureParameters()
TARGET = 0.30


@pytest.fixture(scope="module")
def computed() -> PhaseStatistics:
    return compute_calibration(TARGET, P, MICRO)


def _calibrate_afresh() -> PhaseStatistics:
    """``calibrate`` past its in-process memo, so the disk cache is consulted."""
    return calibrate.__wrapped__(TARGET, P, MICRO)


def _cache_file(folder: Path) -> Path:
    return folder / cache_key("calibration", TARGET, P, MICRO)


def test_a_cached_calibration_equals_the_computed_one_bit_for_bit(
    computed, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert _calibrate_afresh() == computed  # a miss: computed and stored
    assert _cache_file(tmp_path).exists()
    assert _calibrate_afresh() == computed  # a hit: read back exactly (float.hex)


def test_a_stored_value_is_what_a_twin_then_uses(computed, tmp_path, monkeypatch) -> None:
    """The hit really comes from the file (which is why the key must cover code and inputs)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    _calibrate_afresh()
    record = json.loads(_cache_file(tmp_path).read_text())
    record["neck_reach_um"] = (1.25).hex()
    _cache_file(tmp_path).write_text(json.dumps(record))
    assert _calibrate_afresh().neck_reach_um == 1.25


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe", b"[]", b'{"intensity_per_um3": "0x1p-10"}', b'{"a": 1}'],
    ids=["empty", "torn", "binary", "list", "fields-missing", "foreign"],
)
def test_a_corrupt_cache_file_is_ignored_and_replaced(
    computed, tmp_path, monkeypatch, content: bytes
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    _cache_file(tmp_path).write_bytes(content)
    assert _calibrate_afresh() == computed
    assert _calibrate_afresh() == computed


def test_a_non_finite_cached_value_is_ignored(computed, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    record = {f.name: float("nan").hex() for f in dataclasses.fields(PhaseStatistics)}
    _cache_file(tmp_path).write_text(json.dumps(record))
    assert _calibrate_afresh() == computed


def test_an_unwritable_cache_is_ignored(computed, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    assert _calibrate_afresh() == computed


def test_the_cache_can_be_switched_off(computed, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _calibrate_afresh() == computed
    assert not any(tmp_path.rglob("*.json"))


def test_the_key_changes_with_every_input() -> None:
    keys = {
        cache_key("calibration", TARGET, P, MICRO),
        cache_key("calibration", 0.31, P, MICRO),
        cache_key("calibration", TARGET, dataclasses.replace(P, packing_rounds=11), MICRO),
        cache_key("calibration", TARGET, P, dataclasses.replace(MICRO, crack_band_um=0.3)),
    }
    assert len(keys) == 4
