"""Parameters of the two detectors: ion-induced SE imaging and the ToF-SIMS spectrometer.

Sources are the entries of the shared reference ``physics.md``; ASSUMED marks values with no
published source (the comment gives the reasoning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def _frozen(mapping: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class DetectorParameters:
    """Ion-induced secondary-electron imaging (physics.md: N = (I tau / e) delta eps)."""

    # physics.md: ion-induced SE yields for NMC, CBD, epoxy not found; ASSUMED per material.
    # Ion-induced contrast is often opposite to electron SE: the conductive carbon-binder
    # emits most, the oxide less, and the insulating epoxy charges positive under the ion
    # beam and appears darkest.
    se_yield_pore_filler_per_ion: float = 0.4  # ASSUMED
    se_yield_nmc811_per_ion: float = 1.0  # ASSUMED
    se_yield_cbd_per_ion: float = 1.6  # ASSUMED
    # ASSUMED: a milled groove (vacuum in the face) is nearly black: the beam enters it and its
    # secondaries come from the groove's far wall and bottom, microns down, and seldom escape.
    se_yield_vacuum_per_ion: float = 0.02
    # ASSUMED: ion channelling makes each primary grain's yield differ with its orientation;
    # 1-sigma relative spread of the grain-to-grain SE yield.
    grain_channelling_contrast: float = 0.15
    # ASSUMED: SE escape through a side wall brightens the solid rim next to a pore or crack
    # (physics.md: edge brightening); relative gain on the edge pixel before the spot blur.
    edge_brightening_gain: float = 0.5
    detection_efficiency: float = 0.3  # ASSUMED: eps, fraction of emitted SE counted
    amplifier_noise_counts: float = 2.0  # ASSUMED: Gaussian noise per pixel and frame (physics.md)
    line_flyback_s: float = 100e-6  # ASSUMED: per scanned line, per frame
    min_dwell_us: float = 0.025  # ASSUMED: fastest scan generator dwell
    max_counts: int = 65535  # the uint16 range of the image (format, not physics)
    # The video amplifier behind the detector, with the vendors' 0..1 contrast and brightness.
    # ASSUMED mapping (no public figure): gain = 2^((contrast - contrast_at_unit_gain) x
    # contrast_gain_doublings), offset = (brightness - brightness_at_zero_offset) x max_counts.
    # The detector opens at unit gain and zero offset, i.e. the images of the counting model.
    contrast_at_unit_gain: float = 0.5  # ASSUMED: mid-scale, so the default is the count itself
    contrast_gain_doublings: float = 8.0  # ASSUMED: the 0..1 range spans a gain of 1/16..16
    brightness_at_zero_offset: float = 0.5  # ASSUMED: mid-scale adds nothing


@dataclass(frozen=True)
class TofParameters:
    """The ToF-SIMS spectrometer: count model, extraction, dead time, peaks, calibration."""

    # physics.md: useful yields for Li+, Ni+, Co+, Mn+ from Xe+ not found; ASSUMED. Li+ ionises
    # most readily (ionisation energy 5.39 eV against 7.4-7.9 eV for Mn, Ni, Co); Li is set below
    # physics.md's free-alkali 1e-2 because it is bound in the oxide and sputtered by Xe+ (not
    # O2+ or Cs+). Together with the duty cycle these put the default raster (0.8 nA, 50 us,
    # 20 frames) at ~0.25 7Li+ per extraction on NMC: informative, near but below saturation.
    useful_yield_positive: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "Li": 5e-4,  # ASSUMED (see above)
                "Na": 5e-4,  # ASSUMED: alkali like Li
                "Mn": 2.5e-4,  # ASSUMED: lowest ionisation energy of the three TMs
                "Ni": 1e-4,  # ASSUMED (physics.md: TMs 1e-4..1e-3)
                "Co": 1e-4,  # ASSUMED
                "H": 5e-6,  # ASSUMED
                "C": 5e-6,  # ASSUMED
            }
        )
    )
    useful_yield_negative: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "F": 5e-3,  # ASSUMED: large electron affinity
                "O": 5e-4,  # ASSUMED
                "C": 5e-5,  # ASSUMED
                "H": 5e-5,  # ASSUMED
            }
        )
    )
    useful_yield_other: float = 1e-6  # ASSUMED: an element/polarity pair not listed above
    transmission: float = 0.5  # physics.md: transmission x detection efficiency ~50 %
    # ASSUMED: share of the continuously sputtered ions that an orthogonal extraction pulse
    # catches (the beam is continuous, the TOF is pulsed); light ions cross the extractor fastest.
    extraction_duty_cycle: float = 0.02
    # physics.md: extraction rate ASSUMED tens of kHz to ~100 kHz; 100 kHz leaves 10 us per
    # extraction, enough for the heaviest ion of the spectrum (150 u flies ~8.5 us).
    extraction_rate_hz: float = 100e3
    # physics.md: ASSUMED non-paralysable dead time per extraction: a peak counts at most one
    # ion per extraction. A line is flagged saturated when a peak loses more than this share.
    saturation_loss_threshold: float = 0.2
    mass_resolving_power: float = 800.0  # ASSUMED: m/dm (FWHM) of an orthogonal FIB-TOF
    # TofDAQ mode-0 calibration i = p1 sqrt(m) + p2 (physics.md example calibration)
    calibration_p1: float = 812.2415  # physics.md
    calibration_p2: float = 222.0153  # physics.md
    sample_interval_s: float = 0.8333e-9  # physics.md
    max_mass_u: float = 150.0  # ASSUMED: spectrum covers Xe (132 u) with margin
    # ASSUMED: Xe+ counted per primary ion (backscattered / re-sputtered implanted primaries).
    xe_counts_per_primary: float = 1e-5
    xe_doubly_charged_ratio: float = 0.1  # ASSUMED: Xe2+ (at m/2) per Xe+
    background_counts_per_sample_per_s: float = 0.5  # ASSUMED: flat detector/scatter background
    line_flyback_s: float = 500e-6  # ASSUMED: per line per frame (scan return + TOF sync)
    peak_tail_sigmas: float = 6.0  # numerical: a spectral peak is drawn over +-6 sigma
