"""Parameters of the two detectors: ion-induced SE imaging and the ToF-SIMS spectrometer.

Sources are cited by the keys of the Sources section of ``docs/physics.md`` (e.g. [TofDAQ]);
ASSUMED marks values with no published source (the comment gives the reasoning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def _frozen(mapping: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class DetectorParameters:
    """Ion-induced secondary-electron imaging ([Reimer1998]: N = (I tau / e) delta eps)."""

    # Ion-induced SE yields for NMC, CBD, epoxy not found; ASSUMED per material.
    # Ion-induced contrast is often opposite to electron SE ([IonSE2024]): the conductive
    # carbon-binder emits most, the oxide less, and the insulating epoxy charges positive under
    # the ion beam and appears darkest.
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
    # ([Reimer1998]: edge brightening); relative gain on the edge pixel before the spot blur.
    edge_brightening_gain: float = 0.5
    detection_efficiency: float = 0.3  # ASSUMED: eps, fraction of emitted SE counted
    amplifier_noise_counts: float = 2.0  # ASSUMED: Gaussian noise per pixel and frame [Reimer1998]
    line_flyback_s: float = 100e-6  # ASSUMED: per scanned line, per frame
    min_dwell_us: float = 0.025  # ASSUMED: fastest scan generator dwell
    # ASSUMED: slowest dwell and the step dwells come in (FIB scan generators offer tens of ns
    # to tens of ms in steps of their fastest dwell), and the largest SE frame (vendor imaging
    # presets reach about 6k x 4k; 8192 is the recipe language's bound).
    max_dwell_us: float = 25_000.0
    dwell_step_us: float = 0.025
    max_resolution_px: tuple[int, int] = (8192, 8192)
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
    """The ToF-SIMS spectrometer: ion yields, extraction, the digitiser, peaks, calibration."""

    # Secondary-ion yields P (ions emitted per sputtered atom, before the spectrometer) of each
    # element from the NMC811 oxide matrix at x = 1; the useful yield (ions *detected* per
    # sputtered atom) is P x transmission x duty cycle D(m), see :mod:`fibsims_twin.ion_yields`.
    # Matrix effect (Benninghoven, Ruedenauer & Werner, "Secondary Ion Mass Spectrometry",
    # Wiley 1987; Storms, Brown & Stein, Anal. Chem. 49 (1977) 2023): oxygen in the matrix
    # raises positive-ion yields of electropositive elements by orders of magnitude, so Li in
    # the oxide ionises *more* readily, not less. Targets: useful yields of alkalis from oxides
    # ~1e-3..1e-1, transition metals 1e-4..1e-3 (the ranges the same literature quotes).
    ion_yield_positive: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                # ASSUMED: gives a Li+ useful yield of 1.1e-3 at x = 1 (low end of the alkali
                # range: a continuous Xe+ beam into a pulsed TOF, Li the lightest ion)
                "Li": 0.04,
                "Na": 0.04,  # ASSUMED: alkali like Li (the spectrum's Na+ contamination)
                # ASSUMED: K ionises more readily than Na (IE 4.34 against 5.14 eV): twice Na's
                "K": 0.08,
                "Mn": 4e-3,  # ASSUMED: lowest ionisation energy (7.43 eV) of the three TMs
                "Ni": 2.5e-3,  # ASSUMED: useful yield ~2e-4 (range 1e-4..1e-3), IE 7.64 eV
                "Co": 2.5e-3,  # ASSUMED: as Ni (IE 7.88 eV)
                "H": 1e-4,  # ASSUMED
                "C": 1e-4,  # ASSUMED
            }
        )
    )
    ion_yield_negative: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "F": 5e-2,  # ASSUMED: large electron affinity
                "O": 5e-3,  # ASSUMED
                "C": 5e-4,  # ASSUMED
                "H": 5e-4,  # ASSUMED
            }
        )
    )
    ion_yield_other: float = 1e-5  # ASSUMED: an element/polarity pair not listed above
    # Matrix factors on the positive-ion yields of the oxide (NMC = 1), per phase. ASSUMED
    # ([Benninghoven1987] matrix effect, sources above): the oxygen-free carbon/PVDF binder
    # loses the oxygen enhancement (1-3 orders in the literature: one order taken); the epoxy holds
    # ~8 at. % O, so it keeps part of it.
    matrix_factor_positive_cbd: float = 0.1
    matrix_factor_positive_epoxy: float = 0.3
    # ASSUMED form: Li+ yield from Li_x(NMC) scales as (x / x_ref)^exponent. Delithiation
    # oxidises the transition metals and makes the lattice more covalent, which lowers the
    # work-function/bond-breaking route to Li+ (a known effect, form and exponent not
    # published for NMC); linear in x is the simplest monotone choice.
    li_yield_lithiation_exponent: float = 1.0
    li_yield_reference_lithiation: float = 1.0  # ASSUMED: x where the table above holds
    transmission: float = 0.5  # [SIMSWiki]: transmission x detection efficiency ~50 %
    # Orthogonal-extraction duty cycle D(m) = D_ref sqrt(m / m_ref), capped at 1: heavier ions
    # cross the extraction region more slowly, so a pulse catches more of them (Chernushevich,
    # Loboda & Thomson, J. Mass Spectrom. 36 (2001) 849: D = (dx / D) sqrt(m / m_max), typically
    # 5-30 % at the top mass). ASSUMED 25 % at the top of the spectrum's range.
    duty_cycle_reference: float = 0.25
    duty_cycle_reference_mass_u: float = 150.0  # ASSUMED: max_mass_u, the top of the range
    # Extraction rate ASSUMED tens of kHz to ~100 kHz; 100 kHz leaves 10 us per
    # extraction, enough for the heaviest ion of the spectrum (150 u flies ~8.5 us).
    extraction_rate_hz: float = 100e3
    # ADC detection (TofDAQ digitises the MCP signal; its files carry a 'Single Ion Signal'):
    # the ions of one peak in one extraction add up to a larger signal, until the digitiser's
    # range is full. A light peak is ~1-2 samples wide (FWHM t / 2R = 1.3 ns for 7Li at R =
    # 800, 0.83 ns samples), so its ions share one sample's range: the most ions a peak
    # records per extraction is (2^bits - 1) / single-ion pulse height.
    adc_bits: int = 8  # ASSUMED: 8-bit fast digitisers are the TOF norm at GS/s rates
    # ASSUMED: MCP gain set so one ion peaks ~4 ADC levels above the baseline (clear of the
    # noise, leaving the range for ~60 ions): a setting that favours dynamic range
    single_ion_pulse_height_adc_levels: float = 4.0
    # A line is flagged saturated (TofDAQ SaturationWarning) when a peak loses more than this
    # share of its counts on it to the digitiser's range. ASSUMED.
    saturation_loss_threshold: float = 0.02
    mass_resolving_power: float = 800.0  # ASSUMED: m/dm (FWHM) of an orthogonal FIB-TOF
    # TofDAQ mode-0 calibration i = p1 sqrt(m) + p2 ([TofDAQ] example calibration)
    calibration_p1: float = 812.2415  # [TofDAQ] example
    calibration_p2: float = 222.0153  # [TofDAQ] example
    sample_interval_s: float = 0.8333e-9  # [TofDAQ] example
    max_mass_u: float = 150.0  # ASSUMED: spectrum covers Xe (132 u) with margin
    # ASSUMED: Xe+ emitted per primary ion (backscattered / re-sputtered implanted primaries);
    # with T and D(132 u) = 0.23 it detects ~1e-7 Xe+ per primary.
    xe_ions_per_primary: float = 8e-7
    xe_doubly_charged_ratio: float = 0.1  # ASSUMED: Xe2+ (at m/2) per Xe+
    background_counts_per_sample_per_s: float = 0.5  # ASSUMED: flat detector/scatter background
    line_flyback_s: float = 500e-6  # ASSUMED: per line per frame (scan return + TOF sync)
    # ASSUMED: largest raster the TOF's acquisition keeps per frame (2048 is the recipe
    # language's bound); the dwell range and step are the scan generator's (DetectorParameters).
    max_raster_px: tuple[int, int] = (2048, 2048)
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
    # Their ion yields are the atomic ones of ``ion_yield_positive`` (Na, K) with the matrix
    # factor of the phase they sit in (fibsims_twin.ion_yields), as for every atomic ion.
    # Peak shape: a Gaussian core (FWHM m/R) plus this share of the area in an exponential tail
    # to long flight time (high mass), from the ions' energy spread and delayed emission. ASSUMED:
    # orthogonal TOFs show a tail to high mass holding 10-20 % of a peak; its decay length is
    # proportional to the flight time, like the width, so it is given per FWHM.
    peak_tail_area_fraction: float = 0.15  # ASSUMED
    peak_tail_length_per_fwhm: float = 1.0  # ASSUMED
    peak_tail_lengths_drawn: float = 12.0  # numerical: the tail is drawn over 12 decay lengths
    # numerical: isotopologues below this share of their ion are left out of the spectrum
    isotopologue_min_abundance: float = 1e-4
    # numerical: the saturation share of an extra ion's counts (the digitiser's clipping) is
    # evaluated on every 2nd pixel in each direction (its linear part is summed exactly); the
    # share is a smooth function of the rate (every 4th missed by 1.2 % on the packed phantom
    # at 128 x 128, 4 nA; every 2nd is within 1 %)
    spectrum_saturation_stride_px: int = 2
    # numerical: an extra ion whose brightest pixel loses less than this share of its counts to
    # the detection law is taken as linear (its saturation share is not evaluated)
    spectrum_linear_tolerance: float = 1e-3
    # numerical: an extra ion that puts more than this share of its area into a mapped peak's
    # window m +- FWHM/2 is added to that peak's count map (an interference at R)
    interference_min_window_share: float = 1e-2

    @property
    def max_ions_per_extraction(self) -> int:
        """The most ions of one peak the digitiser records per extraction: its range in
        single-ion signals."""
        return max(1, int(((1 << self.adc_bits) - 1) / self.single_ion_pulse_height_adc_levels))
