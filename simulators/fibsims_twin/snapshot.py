"""The sample's physical state as plain data: committed with every slice, restored on resume.

Why: the true face depends on every dose the sample ever received (a SIMS raster may leave it
beyond the next cut), and the features milled into the block stay there; a fresh process cannot
re-derive either. A run commits :func:`take_sample_state` (``GroundTruth.sample_state``) with
every slice and hands it back when it resumes (``InstrumentOptions.sample_state``), as a real
sample would simply still be in the chamber. A twin opened from it at the instrument time it
was taken repeats, byte for byte, what the twin that took it would have done next.

What it holds (JSON-able; format ``FORMAT``, version ``VERSION``):
- ``sample``: the phantom's identity and the run seed, so a state is not restored onto another
  sample or run; ``taken_at_s``: the instrument time, before which no session may start;
- ``face``: the true face, the instrument's nominal face and the last cut or polish front;
- ``curtain``: how the face was cut and polished (null before the first cut);
- ``features``: the features milled into the block, in sample coordinates;
- ``instrument``: what is still set in the chamber: beam current and voltage, beam shift, the
  stage's read-back and true rotation error, the autofocus correction, the SE detector's
  contrast and brightness;
- ``random_counters``: the keyed random streams' counters (:mod:`fibsims_twin.rng`).
Not in it: the beam blanking (a session opens blanked, the safe state), injected faults, and
the truth of the last acquisitions (there is none until the next one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from fibsims.instrument import InstrumentError, StagePosition
from fibsims_twin import video
from fibsims_twin.clock import VirtualClock
from fibsims_twin.features import FEATURE_FIELDS, MilledFeature, MilledFeatures
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.phantom import Phantom
from fibsims_twin.rng import RandomStreams
from fibsims_twin.state import CurtainRecord, TwinState

FORMAT = "fibsims_twin.sample_state"
VERSION = 1
STAGE_FIELDS = tuple(f.name for f in fields(StagePosition))
HINT = "pass GroundTruth.sample_state() back exactly as the run committed it"


def take_sample_state(
    state: TwinState, streams: RandomStreams, clock: VirtualClock, phantom: Phantom
) -> dict[str, Any]:
    """The sample's state now, as JSON-able plain data."""
    curtain = state.curtain
    return {
        "format": FORMAT,
        "version": VERSION,
        "sample": {
            "phantom": phantom.name,
            "seed": phantom.seed,
            "porosity": phantom.porosity,
            "run_seed": streams.run_seed,
        },
        "taken_at_s": clock.now_s(),
        "face": {
            "true_z_um": float(state.sample_face_z_um),
            "nominal_z_um": float(state.face_z_um),
            "last_front_um": _optional_float(state.last_front_um),
        },
        "curtain": None
        if curtain is None
        else {
            "front_um": float(curtain.front_um),
            "cut_rotation_deg": float(curtain.cut_rotation_deg),
            "polish_rotations_deg": [float(r) for r in curtain.polish_rotations_deg],
        },
        "features": [asdict(feature) for feature in state.features],
        "instrument": {
            "current_na": float(state.current_na),
            "voltage_kv": float(state.voltage_kv),
            "beam_shift_um": [float(v) for v in state.beam_shift_um],
            "stage": {name: float(getattr(state.stage, name)) for name in STAGE_FIELDS},
            "rotation_error_deg": float(state.rotation_error_deg),
            "focus_correction_um": float(state.focus_correction_um),
            "se_contrast": float(state.se_contrast),
            "se_brightness": float(state.se_brightness),
        },
        "random_counters": {
            name: [pm, count] for name, (pm, count) in sorted(streams.counters().items())
        },
    }


def restore_sample_state(
    data: Any,
    state: TwinState,
    streams: RandomStreams,
    phantom: Phantom,
    start_time_s: float,
    p: TwinParameters,
) -> None:
    """Put ``data`` (from :func:`take_sample_state`) into ``state`` and ``streams``, after
    checking all of it: a malformed state is an InstrumentError naming the field at fault."""
    root = _Section(data, "sample_state")
    root.exact_keys(
        "format",
        "version",
        "sample",
        "taken_at_s",
        "face",
        "curtain",
        "features",
        "instrument",
        "random_counters",
    )
    if root.value["format"] != FORMAT or root.value["version"] != VERSION:
        raise _bad(
            "sample_state",
            f"is format {root.value['format']!r} version {root.value['version']!r}; this twin "
            f"reads {FORMAT!r} version {VERSION}",
        )
    _check_identity(root.section("sample"), phantom, streams)
    taken_at_s = root.number("taken_at_s", low=0.0)
    if start_time_s < taken_at_s:
        raise _bad(
            "sample_state.taken_at_s",
            f"is {taken_at_s!r} s, after the session's start_time_s {start_time_s!r} s: a "
            "session resumes at or after the time its sample state was taken",
        )
    face = root.section("face")
    face.exact_keys("true_z_um", "nominal_z_um", "last_front_um")
    curtain = root.optional_section("curtain")
    features = [_feature(item) for item in root.sections("features")]
    instrument = root.section("instrument")
    counters = _counters(root.section("random_counters"))

    true_z_um, nominal_z_um = face.number("true_z_um"), face.number("nominal_z_um")
    last_front_um = face.optional_number("last_front_um")
    record = None if curtain is None else _curtain(curtain)
    settings = _instrument(instrument, p)

    state.sample_face_z_um, state.face_z_um = true_z_um, nominal_z_um
    state.last_front_um = last_front_um
    state.curtain = record
    state.features = MilledFeatures(features)
    for name, value in settings.items():
        setattr(state, name, value)
    streams.restore_counters(counters)


def _check_identity(sample: _Section, phantom: Phantom, streams: RandomStreams) -> None:
    sample.exact_keys("phantom", "seed", "porosity", "run_seed")
    expected = {
        "phantom": phantom.name,
        "seed": phantom.seed,
        "porosity": phantom.porosity,
        "run_seed": streams.run_seed,
    }
    for key, value in expected.items():
        if sample.value[key] != value or isinstance(sample.value[key], bool):
            raise _bad(
                f"{sample.path}.{key}",
                f"is {sample.value[key]!r} but this session's is {value!r}: the state belongs "
                "to another sample or run",
            )


def _feature(item: _Section) -> MilledFeature:
    item.exact_keys(*FEATURE_FIELDS)
    values = {name: item.number(name) for name in FEATURE_FIELDS}
    for name in ("width_um", "height_um", "depth_um"):
        if values[name] <= 0:
            raise _bad(f"{item.path}.{name}", f"is {values[name]!r}; a size must be positive")
    return MilledFeature(**values)


def _curtain(section: _Section) -> CurtainRecord:
    section.exact_keys("front_um", "cut_rotation_deg", "polish_rotations_deg")
    rotations = section.value["polish_rotations_deg"]
    if not isinstance(rotations, list | tuple):
        raise _bad(f"{section.path}.polish_rotations_deg", f"must be a list, got {rotations!r}")
    return CurtainRecord(
        front_um=section.number("front_um"),
        cut_rotation_deg=section.number("cut_rotation_deg"),
        polish_rotations_deg=[
            _finite(f"{section.path}.polish_rotations_deg[{k}]", r) for k, r in enumerate(rotations)
        ],
    )


def _instrument(section: _Section, p: TwinParameters) -> dict[str, Any]:
    """The instrument settings of the state, checked, as ``TwinState`` attributes."""
    section.exact_keys(
        "current_na",
        "voltage_kv",
        "beam_shift_um",
        "stage",
        "rotation_error_deg",
        "focus_correction_um",
        "se_contrast",
        "se_brightness",
    )
    current = section.number("current_na")
    if current not in p.column.current_ladder_na:
        raise _bad(f"{section.path}.current_na", f"{current!r} nA is not a rung of the ladder")
    shift = section.value["beam_shift_um"]
    limit = p.column.beam_shift_limit_um
    if not isinstance(shift, list | tuple) or len(shift) != 2:
        raise _bad(f"{section.path}.beam_shift_um", f"must be [x, y], got {shift!r}")
    shift_x, shift_y = (_finite(f"{section.path}.beam_shift_um", v) for v in shift)
    if max(abs(shift_x), abs(shift_y)) > limit:
        raise _bad(f"{section.path}.beam_shift_um", f"{shift!r} exceeds +-{limit:g} um")
    stage = section.section("stage")
    stage.exact_keys(*STAGE_FIELDS)
    return {
        "current_na": current,
        "voltage_kv": section.number(
            "voltage_kv", low=p.column.voltage_min_kv, high=p.column.voltage_max_kv
        ),
        "beam_shift_um": (shift_x, shift_y),
        "stage": StagePosition(**{name: stage.number(name) for name in STAGE_FIELDS}),
        "rotation_error_deg": section.number("rotation_error_deg"),
        "focus_correction_um": section.number("focus_correction_um"),
        "se_contrast": _setting(section, "se_contrast"),
        "se_brightness": _setting(section, "se_brightness"),
    }


def _setting(section: _Section, key: str) -> float:
    try:
        return video.check_setting(key.removeprefix("se_"), section.value[key])
    except InstrumentError as error:
        raise _bad(f"{section.path}.{key}", f"is refused: {error}") from None


def _counters(section: _Section) -> dict[str, tuple[int, int]]:
    counters = {}
    for name, value in section.value.items():
        path = f"{section.path}.{name}"
        if (
            not isinstance(name, str)
            or not isinstance(value, list | tuple)
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
            or value[1] < 0
        ):
            raise _bad(path, f"must be [position_pm, draws >= 0] (integers), got {value!r}")
        counters[name] = (value[0], value[1])
    return counters


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _bad(path: str, problem: str) -> InstrumentError:
    return InstrumentError(f"{path} {problem}; {HINT}")


def _finite(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(path, f"must be a finite number, got {value!r}")
    return float(value)


class _Section:
    """One mapping of the state, with its path for the error messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            raise _bad(path, f"must be a mapping, got {type(value).__name__} {value!r:.60}")
        self.value, self.path = value, path

    def exact_keys(self, *keys: str) -> None:
        missing = [k for k in keys if k not in self.value]
        unknown = sorted(str(k) for k in self.value if k not in keys)
        problems = [f"lacks {', '.join(missing)}"] if missing else []
        problems += [f"has unknown keys {', '.join(unknown)}"] if unknown else []
        if problems:
            raise _bad(self.path, " and ".join(problems))

    def number(self, key: str, low: float | None = None, high: float | None = None) -> float:
        value = _finite(f"{self.path}.{key}", self.value[key])
        if (low is not None and value < low) or (high is not None and value > high):
            raise _bad(f"{self.path}.{key}", f"is {value!r}, outside {low}..{high}")
        return value

    def optional_number(self, key: str) -> float | None:
        return None if self.value[key] is None else self.number(key)

    def section(self, key: str) -> _Section:
        return _Section(self.value[key], f"{self.path}.{key}")

    def optional_section(self, key: str) -> _Section | None:
        return None if self.value[key] is None else self.section(key)

    def sections(self, key: str) -> list[_Section]:
        items = self.value[key]
        if not isinstance(items, list | tuple):
            raise _bad(f"{self.path}.{key}", f"must be a list, got {items!r:.60}")
        return [_Section(item, f"{self.path}.{key}[{k}]") for k, item in enumerate(items)]
