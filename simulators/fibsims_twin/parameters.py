"""Every physical, timing and numerical parameter of the twin, named, with its unit and source.

Why one module: a reviewer checks the twin's physics against ``docs/physics.md`` (which mirrors
these tables) without reading the models, and a calibration replaces values by building a
different :class:`TwinParameters` (``dataclasses.replace``) instead of editing code. No other
module of the twin may hold a bare physical literal.

Sources are the entries of the shared reference ``physics.md`` (quoted as "physics.md: ...").
A value marked ASSUMED has no published source; the comment gives the reasoning, and the value is
a starting point for calibration on a real instrument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# --- Physical constants and unit conversions (exact SI definitions, not model choices) --------
ELEMENTARY_CHARGE_C = 1.602176634e-19  # SI 2019 exact
AMPERE_PER_NANOAMPERE = 1e-9
SECOND_PER_MICROSECOND = 1e-6
SECOND_PER_HOUR = 3600.0
UM3_PER_CM3 = 1e12
NM_PER_UM = 1e3
PM_PER_UM = 1e6
GAUSSIAN_FWHM_PER_SIGMA = 2.3548200450309493  # 2*sqrt(2*ln 2)


def _frozen(mapping: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ColumnParameters:
    """The Xe+ plasma column: currents, voltage, milling rate, beam spot and autofocus."""

    ion_species: str = "Xe"  # physics.md: Xe+ plasma FIB
    voltage_kv: float = 30.0  # physics.md: 30 kV is the working point for milling and imaging
    voltage_min_kv: float = 2.0  # ASSUMED: usual lower end of PFIB accelerating voltages
    voltage_max_kv: float = 30.0  # ASSUMED: usual upper end of PFIB accelerating voltages
    voltage_change_time_s: float = 120.0  # ASSUMED: source retune + column realignment, minutes
    # ASSUMED ladder (physics.md: discrete apertures, imaging tens of pA, milling 1-60 nA, top
    # ~2.5 uA). Holds the rungs the default recipe uses: 0.1, 0.8, 4 and 15 nA.
    current_ladder_na: tuple[float, ...] = (
        0.001,
        0.01,
        0.03,
        0.1,
        0.3,
        0.8,
        1.5,
        4.0,
        15.0,
        30.0,
        60.0,
        200.0,
        500.0,
        1300.0,
        2500.0,
    )
    # ASSUMED: a request farther than this share of itself from every rung is refused, not
    # snapped (the engine's preflight uses the same rule).
    current_tolerance_fraction: float = 0.10
    initial_current_na: float = 0.1  # ASSUMED: the column opens on the imaging rung
    # ASSUMED: aperture change plus beam settling; the default recipe makes 4 per slice, which
    # physics.md's budget puts at ~45 s per slice.
    current_switch_time_s: float = 10.0
    # ASSUMED: pattern-to-pattern emission fluctuation of the plasma source (1 sigma, relative);
    # it changes the delivered dose, not the pattern time (the column times patterns nominally).
    source_current_fluctuation_fraction: float = 0.005
    # physics.md: spot size vs current not found; ASSUMED power law d = d0 * (I / I0)^k.
    spot_fwhm_ref_nm: float = 40.0  # ASSUMED: d0, a few tens of nm at an imaging current
    spot_ref_current_na: float = 0.1  # ASSUMED: I0 where d = d0
    spot_exponent: float = 0.45  # physics.md: k ~ 0.4-0.5
    # ASSUMED focus sweep: small frames at the selected current, each followed by a settle.
    autofocus_frames: int = 9
    autofocus_resolution_px: tuple[int, int] = (512, 342)
    autofocus_dwell_us: float = 1.0
    autofocus_settle_s: float = 0.5
    # ASSUMED: defocus drifts as a random walk, this many um after one hour (1 sigma).
    defocus_walk_um_per_sqrt_h: float = 0.5
    autofocus_residual_um: float = 0.05  # ASSUMED: 1-sigma focus error left by the sweep
    beam_shift_limit_um: float = 50.0  # ASSUMED: electrostatic shift range per axis


@dataclass(frozen=True)
class StageParameters:
    """The sample stage: speeds, settling and travel (all ASSUMED, no public stage data)."""

    xy_speed_um_per_s: float = 200.0  # ASSUMED: fine moves of a eucentric stage
    z_speed_um_per_s: float = 100.0  # ASSUMED
    tilt_speed_deg_per_s: float = 5.0  # ASSUMED
    # ASSUMED: rocking polish rotates 0 -> -20 -> +20 -> 0 (80 deg per slice, physics.md +-20),
    # so rotation speed and settle set the ~15 s stage share of physics.md's ~60 s polish.
    rotation_speed_deg_per_s: float = 10.0
    settle_time_s: float = 3.0  # ASSUMED: mechanical settling after any move
    xy_limit_um: float = 55_000.0  # ASSUMED: +-55 mm travel
    z_limit_um: float = 10_000.0  # ASSUMED
    tilt_min_deg: float = -15.0  # ASSUMED
    tilt_max_deg: float = 60.0  # ASSUMED


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
    detection_efficiency: float = 0.3  # ASSUMED: eps, fraction of emitted SE counted
    line_flyback_s: float = 100e-6  # ASSUMED: per scanned line, per frame
    min_dwell_us: float = 0.025  # ASSUMED: fastest scan generator dwell
    max_counts: int = 65535  # the uint16 range of the image (format, not physics)


@dataclass(frozen=True)
class TofParameters:
    """The ToF-SIMS spectrometer: count model, peaks and TofDAQ calibration."""

    # physics.md: Li+ ionises readily, alkali useful yields ~1e-2, TMs 1e-4..1e-3; all ASSUMED.
    # Li is set below the alkali value: Li bound in the oxide lattice and in a PFIB Xe+ (not
    # O2+/Cs+) raster is taken to ionise less than a free alkali surface.
    useful_yield_positive: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "Li": 1e-3,  # ASSUMED (see above)
                "Na": 1e-3,  # ASSUMED: alkali like Li
                "Mn": 5e-4,  # ASSUMED: lowest ionisation energy of the three TMs
                "Ni": 2e-4,  # ASSUMED
                "Co": 2e-4,  # ASSUMED
                "H": 1e-5,  # ASSUMED
                "C": 1e-5,  # ASSUMED
            }
        )
    )
    useful_yield_negative: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "F": 1e-2,  # ASSUMED: large electron affinity
                "O": 1e-3,  # ASSUMED
                "C": 1e-4,  # ASSUMED
                "H": 1e-4,  # ASSUMED
            }
        )
    )
    useful_yield_other: float = 1e-6  # ASSUMED: an element/polarity pair not listed above
    transmission: float = 0.5  # physics.md: transmission x detection efficiency ~50 %
    mass_resolving_power: float = 800.0  # ASSUMED: m/dm (FWHM) of an orthogonal FIB-TOF
    # TofDAQ mode-0 calibration i = p1 sqrt(m) + p2 (physics.md example calibration)
    calibration_p1: float = 812.2415  # physics.md
    calibration_p2: float = 222.0153  # physics.md
    sample_interval_s: float = 0.8333e-9  # physics.md
    max_mass_u: float = 150.0  # ASSUMED: spectrum covers Xe (132 u) with margin
    # ASSUMED: Xe+ counted per primary ion (backscattered / re-sputtered implanted primaries).
    xe_counts_per_primary: float = 1e-5
    background_counts_per_sample_per_s: float = 0.5  # ASSUMED: flat detector/scatter background
    line_flyback_s: float = 500e-6  # ASSUMED: per line per frame (scan return + TOF sync)
    peak_tail_sigmas: float = 6.0  # numerical: a spectral peak is drawn over +-6 sigma


@dataclass(frozen=True)
class MaterialParameters:
    """Composition, density and sputtering of the three phases of the phantom."""

    # NMC811: Li_x Ni0.8 Mn0.1 Co0.1 O2 (physics.md); Li content x varies (see PhantomParameters)
    nmc_ni_per_formula: float = 0.8  # physics.md
    nmc_mn_per_formula: float = 0.1  # physics.md
    nmc_co_per_formula: float = 0.1  # physics.md
    nmc_o_per_formula: float = 2.0  # physics.md
    # physics.md: theoretical density ~4.7-4.8 g/cm3, Li atom density ~2.95e22 cm^-3, i.e.
    # 2.95e22 formula units x 4 atoms (at x = 1).
    nmc_atom_density_per_cm3: float = 4 * 2.95e22
    # CBD: carbon black + PVDF (CH2CF2)n; physics.md slurry 8:1:1 -> carbon : PVDF = 1 : 1 by mass
    cbd_carbon_mass_fraction: float = 0.5  # physics.md (8:1:1)
    carbon_molar_mass_g_per_mol: float = 12.011  # IUPAC standard atomic weight
    pvdf_monomer_molar_mass_g_per_mol: float = 64.035  # C2H2F2 from IUPAC atomic weights
    cbd_atom_density_per_cm3: float = 1.0e23  # ASSUMED: ~1.8-2.0 g/cm3 carbon and PVDF
    # Pore filler: cured epoxy, ASSUMED DGEBA-like C21 H24 O4 (amine hardener N neglected)
    epoxy_c_per_formula: float = 21.0  # ASSUMED
    epoxy_h_per_formula: float = 24.0  # ASSUMED
    epoxy_o_per_formula: float = 4.0  # ASSUMED
    epoxy_atom_density_per_cm3: float = 1.0e23  # ASSUMED: ~1.2 g/cm3, ~7 g/mol per atom
    # Volume per dose Yv for 30 keV Xe+. physics.md: no measured value for layered oxides,
    # "ASSUMED ~0.3-0.5 um^3/nC"; mid value. With the atom density above it gives ~7.5 atoms/ion,
    # matching the Yamamura estimate Xe+ -> Ni 7.3 atoms/ion. The column mills with this value.
    nmc_volume_per_dose_um3_per_nc: float = 0.4
    # physics.md: binder and epoxy mill at different rates (differential milling -> curtains)
    cbd_volume_per_dose_um3_per_nc: float = 0.6  # ASSUMED: light elements sputter faster
    epoxy_volume_per_dose_um3_per_nc: float = 0.8  # ASSUMED: polymers mill fastest


@dataclass(frozen=True)
class PhantomParameters:
    """The procedural NMC811 cathode: Boolean model of spheres, CBD at necks, Li field."""

    default_porosity: float = 0.335  # physics.md: Chen2020 porosity
    porosity_min: float = 0.05  # ASSUMED: the range the calibration is meant for
    porosity_max: float = 0.60  # ASSUMED: as the recipe schema (electrodes 0.18-0.44)
    mean_radius_um: float = 5.22  # physics.md: PyBaMM Chen2020 particle radius
    radius_log_sigma: float = 0.2  # ASSUMED: lognormal spread of secondary particle radii
    radius_min_fraction: float = 0.5  # ASSUMED: radii clipped to [0.5, 1.8] x mean
    radius_max_fraction: float = 1.8  # ASSUMED
    # ASSUMED: a pore point within this distance of the surfaces of two particles is CBD
    # (physics.md: CBD fills part of the pore space, mostly at necks). 1 um gives ~5 vol % CBD.
    cbd_neck_reach_um: float = 1.0
    # ASSUMED: per-particle mean Li content x of Li_x(NMC811), a partly delithiated electrode
    soc_mean: float = 0.7
    soc_sigma: float = 0.12  # ASSUMED: particle-to-particle spread (physics.md heterogeneity)
    soc_min: float = 0.2  # ASSUMED: x is clipped to [0.2, 1.0]
    soc_max: float = 1.0  # physics.md formula: x <= 1
    # ASSUMED: surface-minus-core contrast of x, drawn per particle with zero mean (core-shell)
    soc_gradient_sigma: float = 0.1
    # numerical: the lazy Boolean model is generated in cubic cells of this size; part of the
    # phantom's identity (changing it changes the realisation, not the statistics).
    cell_size_um: float = 20.0
    origin_offset_um: tuple[float, float, float] = (137.0, 59.0, 211.0)  # numerical: z=0 unspecial
    cell_cache_size: int = 4096  # numerical: cells kept in memory
    radius_quadrature_points: int = 4096  # numerical: E[V(R)] for the intensity calibration


@dataclass(frozen=True)
class NoiseParameters:
    """Numerical choices of the shot-noise sampler and the blur."""

    # numerical: above this mean a Poisson count is drawn as round(N(mean, mean)); the
    # skewness 1/sqrt(mean) < 0.1 is invisible in images and maps, and it is ~3x faster.
    normal_approximation_min_mean: float = 100.0
    min_blur_sigma_px: float = 0.25  # numerical: narrower spots are not blurred
    blur_truncate_sigmas: float = 2.5  # numerical: Gaussian kernel half-width


@dataclass(frozen=True)
class TwinParameters:
    """The whole parameter set of the twin; pass a modified copy to the factory to calibrate."""

    column: ColumnParameters = field(default_factory=ColumnParameters)
    stage: StageParameters = field(default_factory=StageParameters)
    detector: DetectorParameters = field(default_factory=DetectorParameters)
    tof: TofParameters = field(default_factory=TofParameters)
    materials: MaterialParameters = field(default_factory=MaterialParameters)
    phantom: PhantomParameters = field(default_factory=PhantomParameters)
    noise: NoiseParameters = field(default_factory=NoiseParameters)
