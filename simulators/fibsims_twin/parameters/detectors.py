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

    # --- Sum spectrum beyond the mapped elements (spectrum_lines.py, ion_catalogue.py) ---
    # Positive-mode ions a real spectrum of an NMC cathode in epoxy shows besides the atomic ions
    # of the mapped elements. Formulas are written element by element (e.g. "Li2O", "C7H7");
    # each ion's isotope pattern follows from fibsims.instrument.isotopes.
    # Molecular/cluster ions of the oxide, per atomic ion of their first element (ions of the
    # formula per M+ ion, all isotopes). No measured Xe+ values for NMC were found: ASSUMED from
    # the pattern common to oxide SIMS (Benninghoven, Rudenauer & Werner, "Secondary Ion Mass
    # Spectrometry", Wiley 1987): for strongly electropositive metals the bare M+ dominates and
    # MO+ sits a few per cent below it (Li: LiO+, Li2O+ a few per cent, Li2+ under 1 %);
    # transition metals give MO+ at ~10-30 % of M+ (Mn, the most oxophilic, highest) and weak
    # MOH+, dimers M2+ below 1 %.
    oxide_cluster_ion_ratios: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "LiO": 0.03,  # ASSUMED (see above)
                "Li2O": 0.02,  # ASSUMED
                "Li2": 0.005,  # ASSUMED
                "Li2OH": 0.005,  # ASSUMED: hydroxide/adsorbed water on the oxide
                "NiO": 0.1,  # ASSUMED
                "NiOH": 0.02,  # ASSUMED
                "Ni2": 0.005,  # ASSUMED
                "MnO": 0.3,  # ASSUMED
                "CoO": 0.15,  # ASSUMED
            }
        )
    )
    # ASSUMED: MH+ per M+ for Mn, Co, Ni of the oxide (hydrogen from adsorbed water and residual
    # gas; hydride ions at the per-cent level of M+ are common in metal/oxide SIMS). It matters:
    # 58NiH+ (58.943 u) lies 0.010 u from 59Co+ (58.933 u), which needs m/dm ~ 6000 to resolve.
    metal_hydride_ratio: float = 0.01
    # Epoxy (pore filler) fragments, ions per sputtered epoxy atom before transmission and duty
    # cycle. The set is the positive static-SIMS fingerprint of cured bisphenol-A epoxies
    # (Treverton, Paul & Vickerman, Surf. Interface Anal. 20 (1993) 449: bisphenol-A ions at
    # m/z 135 C9H11O+ and 107 C7H7O+, plus the aromatic 91 C7H7+ and 77 C6H5+ and the CnH2n-1+ /
    # CnH2n+1+ series 15, 27, 29, 41, 43, 55, 57); values ASSUMED: a total of ~2e-5 ions per
    # atom (polymer fragment yields sit well below alkali yields), split with the light
    # CxHy+ strongest as in polymer spectra under atomic primaries.
    epoxy_fragment_ions_per_atom: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "CH3": 1.5e-6,  # ASSUMED
                "C2H3": 2.5e-6,  # ASSUMED
                "C2H5": 2.0e-6,  # ASSUMED
                "CHO": 1.0e-6,  # ASSUMED: 29, beside C2H5+ (0.036 u apart)
                "C3H5": 2.5e-6,  # ASSUMED
                "C3H7": 1.5e-6,  # ASSUMED
                "C2H3O": 1.0e-6,  # ASSUMED: 43, beside C3H7+ (0.036 u apart)
                "C4H7": 1.2e-6,  # ASSUMED
                "C3H5O": 1.0e-6,  # ASSUMED: glycidyl fragment, 57
                "C5H5": 0.8e-6,  # ASSUMED
                "C6H5": 1.0e-6,  # ASSUMED
                "C7H7": 1.5e-6,  # ASSUMED: tropylium, the aromatic marker
                "C7H7O": 0.8e-6,  # ASSUMED: bisphenol-A, 107
                "C9H11O": 0.6e-6,  # ASSUMED: bisphenol-A, 135
            }
        )
    )
    # Carbon-binder domain fragments (PVDF and carbon black), ions per sputtered CBD atom.
    # PVDF's positive spectrum holds C1-C3 fluorocarbon ions only (Feng et al., Polymer 41 (2000)
    # 2695): CF+ 31, C2H2F+ 45, CHF2+ 51, C3H4F+ 59, C3H3F2+ 77; carbon black gives C+ and
    # C2H3+-type hydrocarbons. Values ASSUMED, the same total order as the epoxy's.
    binder_fragment_ions_per_atom: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "C": 1.0e-6,  # ASSUMED: carbon black
                "CF": 2.0e-6,  # ASSUMED
                "C2H2F": 2.5e-6,  # ASSUMED
                "CHF2": 1.0e-6,  # ASSUMED
                "C3H4F": 1.0e-6,  # ASSUMED
                "C3H3F2": 1.0e-6,  # ASSUMED
            }
        )
    )
    # Alkali contamination, atomic fractions in each phase. ASSUMED placement: Na and some K
    # stay in NMC from the hydroxide co-precipitation of its precursor (NaOH, sulfate salts);
    # the epoxy carries both as ionic residues of its synthesis (NaCl from epichlorohydrin) and
    # of handling. A freshly FIB-cut face has no surface film, so no surface term.
    sodium_atomic_fraction_nmc: float = 2e-4  # ASSUMED: ~100 ppm by mass residue
    potassium_atomic_fraction_nmc: float = 2e-5  # ASSUMED
    sodium_atomic_fraction_epoxy: float = 2e-5  # ASSUMED
    potassium_atomic_fraction_epoxy: float = 1e-5  # ASSUMED
    # ASSUMED: useful yields of the contaminants (ions per sputtered atom before T and D); K
    # ionises more readily than Na (4.34 against 5.14 eV), both as alkalis in an oxide matrix.
    sodium_useful_yield: float = 1e-2
    potassium_useful_yield: float = 2e-2
    # Peak shape: a Gaussian core (FWHM m/R) plus this share of the area in an exponential tail
    # to long flight time (high mass), from the ions' energy spread and delayed emission. ASSUMED:
    # orthogonal TOFs show a tail to high mass holding 10-20 % of a peak; its decay length is
    # proportional to the flight time, like the width, so it is given per FWHM.
    peak_tail_area_fraction: float = 0.15  # ASSUMED
    peak_tail_length_per_fwhm: float = 1.0  # ASSUMED
    peak_tail_lengths_drawn: float = 12.0  # numerical: the tail is drawn over 12 decay lengths
    # numerical: isotopologues below this share of their ion are left out of the spectrum
    isotopologue_min_abundance: float = 1e-4
    # numerical: the dead-time share of an extra ion's counts is evaluated on every 8th pixel in
    # each direction (its linear part on every 2nd); the share is a smooth function of the rate
    spectrum_dead_time_stride_px: int = 8
    spectrum_linear_stride_px: int = 2
    # numerical: an extra ion whose brightest pixel loses less than this share of its counts to
    # the detection law is taken as linear (its saturation share is not evaluated)
    spectrum_linear_tolerance: float = 1e-3
    # numerical: an extra ion that puts more than this share of its area into a mapped peak's
    # window m +- FWHM/2 is added to that peak's count map (an interference at R)
    interference_min_window_share: float = 1e-2
