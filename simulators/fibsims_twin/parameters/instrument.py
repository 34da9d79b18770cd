"""Parameters of the machine: column, stage, slow drifts and the milling of a face.

Sources are cited by the keys of the Sources section of ``docs/physics.md`` (e.g. [Smith2023]).
ASSUMED marks a value with no published source: the comment gives the reasoning, and the value
is a starting point for calibration on a real instrument.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnParameters:
    """The Xe+ plasma column: currents, voltage, beam spot and autofocus."""

    ion_species: str = "Xe"  # [MicroscopyToday2016]: Xe+ plasma FIB
    ion_atomic_number: int = 54  # Xe (the sputter-yield formulas need Z1 and M1)
    ion_mass_u: float = 131.293  # IUPAC standard atomic weight of Xe
    voltage_kv: float = 30.0  # [MicroscopyToday2016]: 30 kV working point for milling
    voltage_min_kv: float = 2.0  # ASSUMED: usual lower end of PFIB accelerating voltages
    voltage_max_kv: float = 30.0  # ASSUMED: usual upper end of PFIB accelerating voltages
    voltage_change_time_s: float = 120.0  # ASSUMED: source retune + column realignment, minutes
    # ASSUMED ladder (discrete apertures, imaging tens of pA, milling 1-60 nA as in
    # [MicroscopyToday2016], top ~2.5 uA). Holds the rungs the default recipe uses: 0.1, 0.8,
    # 4 and 15 nA.
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
    # snapped (the twin declares it in its capabilities, which preflight checks with). Rung
    # labels are rounded to two significant figures (a 1.48 nA aperture reads 1.5 nA), under
    # 4 %; 5 % accepts those and refuses a current that is simply not offered (13.7 nA).
    current_tolerance_fraction: float = 0.05
    # ASSUMED: widest field the column scans (low-magnification PFIB fields reach about a
    # millimetre; 2000 um is the recipe language's bound).
    max_field_width_um: float = 2000.0
    initial_current_na: float = 0.1  # ASSUMED: the column opens on the imaging rung
    # ASSUMED: aperture change plus beam settling, the same whichever rung it comes from (so a
    # resumed session, which opens on another rung, pays what an uninterrupted one pays); the
    # default recipe makes 4 per slice, which the ASSUMED [Budget] puts at ~45 s per slice.
    current_switch_time_s: float = 10.0
    # Spot size vs current not found; ASSUMED power law d = d0 * (I / I0)^k.
    spot_fwhm_ref_nm: float = 40.0  # ASSUMED: d0, a few tens of nm at an imaging current
    spot_ref_current_na: float = 0.1  # ASSUMED: I0 where d = d0
    spot_exponent: float = 0.45  # ASSUMED: k ~ 0.4-0.5
    # ASSUMED: beam convergence half-angle; a defocus dz widens the spot by 2 * alpha * dz (FWHM,
    # geometric optics). FIB columns have ~1 mrad, hence depths of field of tens of um.
    convergence_half_angle_mrad: float = 1.0
    # ASSUMED focus sweep: small frames at the selected current, each followed by a settle.
    autofocus_frames: int = 9
    autofocus_resolution_px: tuple[int, int] = (512, 342)
    autofocus_dwell_us: float = 1.0
    autofocus_settle_s: float = 0.5
    autofocus_residual_um: float = 0.05  # ASSUMED: 1-sigma focus error left by the sweep
    # ASSUMED: the sweep scans the imaging field (the default recipe's 20 um face), which it
    # sputters by its dose like any scan (~0.20 nm per sweep at 0.1 nA).
    autofocus_field_width_um: float = 20.0
    beam_shift_limit_um: float = 50.0  # ASSUMED: electrostatic shift range per axis


@dataclass(frozen=True)
class StageParameters:
    """The sample stage: speeds, settling, travel and the errors of the rotation axis."""

    xy_speed_um_per_s: float = 200.0  # ASSUMED: fine moves of a eucentric stage
    z_speed_um_per_s: float = 100.0  # ASSUMED
    tilt_speed_deg_per_s: float = 5.0  # ASSUMED
    # ASSUMED: rocking polish rotates 0 -> -20 -> +20 -> 0 (80 deg per slice, [Smith2023] +-20),
    # so rotation speed and settle set the ~15 s stage share of the [Budget]'s ~60 s polish.
    rotation_speed_deg_per_s: float = 10.0
    settle_time_s: float = 3.0  # ASSUMED: mechanical settling after any move
    xy_limit_um: float = 55_000.0  # ASSUMED: +-55 mm travel
    z_limit_um: float = 10_000.0  # ASSUMED
    tilt_min_deg: float = -15.0  # ASSUMED
    tilt_max_deg: float = 60.0  # ASSUMED
    # ASSUMED: lost motion of the rotation gear train; a target approached from below lands
    # backlash/2 short of it, from above backlash/2 past it. Motor-side encoders do not see it.
    rotation_backlash_deg: float = 0.05
    rotation_repeatability_deg: float = 0.02  # ASSUMED: 1-sigma scatter of a rotation move
    # ASSUMED: the rotation axis passes this far from the field centre (x, y), so a rotation
    # error e shifts the field by e x offset (a few nm for hundredths of a degree).
    rotation_axis_offset_um: tuple[float, float] = (20.0, 0.0)


@dataclass(frozen=True)
class DriftParameters:
    """Slow processes of the instrument, each a deterministic function of (run seed, time).

    Drift rates not found in the literature; ASSUMED "a slow random walk plus a thermal ramp, a few
    nm/min". Source emission and focus wander likewise have no public figure.
    """

    drift_walk_nm_per_sqrt_min: float = 1.0  # ASSUMED: per axis, 1 sigma after one minute
    thermal_drift_rate_nm_per_min: float = 1.5  # ASSUMED: initial speed of the thermal ramp
    thermal_drift_time_constant_h: float = 3.0  # ASSUMED: the ramp settles exponentially
    emission_fluctuation_fraction: float = 0.005  # ASSUMED: 1-sigma relative source current
    emission_correlation_s: float = 60.0  # ASSUMED: correlation time of the emission noise
    focus_wander_um: float = 2.0  # ASSUMED: 1-sigma stationary defocus of the lens presets
    focus_correlation_h: float = 2.0  # ASSUMED: thermal time scale of the lens
    drift_time_step_s: float = 10.0  # numerical: grid of the drift random walk
    emission_time_step_s: float = 5.0  # numerical: grid of the emission process
    focus_time_step_s: float = 60.0  # numerical: grid of the focus process
    block_steps: int = 512  # numerical: grid steps drawn from one keyed generator


@dataclass(frozen=True)
class MillingParameters:
    """Where a cut leaves the face, and the curtains it leaves on it."""

    cut_placement_sigma_nm: float = 2.0  # ASSUMED: 1-sigma beam placement error of a cut front
    # ASSUMED: rms SE modulation by curtains after a cut with no polish ([Smith2023]: curtaining
    # gets worse in PFIB on inhomogeneous materials; differential milling makes curtains).
    curtain_contrast_rms: float = 0.08
    curtain_differential_share: float = 0.6  # ASSUMED: share from phases upstream of a column
    curtain_stripe_width_um: float = 0.3  # ASSUMED: lateral scale of the stripes
    # ASSUMED: share of the curtains a rocking pass removes at full effect ([Smith2023]: rocking
    # a few tens of degrees, e.g. +-20, until the curtains vanish). A pass rotated by theta
    # meets the stripes' side walls at 90 - |theta| deg, so it removes this share times the
    # walls' sputter yield there relative to the yield at 90 - saturation deg (at most 1).
    rocking_removal_max: float = 0.6
    rocking_saturation_deg: float = 15.0
    # numerical: a pattern whose footprint starts no more than this behind the true face (in the
    # sample frame) lies wholly ahead of it: it mills a feature into the block, not the face.
    feature_face_tolerance_nm: float = 1.0
    # ASSUMED: slice-and-view cuts span the face (20 um in the default recipe); a narrower
    # pattern (a fiducial line) that reaches the face mills a notch into it, not a new face, so
    # it is kept as a feature wherever it lies.
    cut_min_width_um: float = 5.0


@dataclass(frozen=True)
class IncidenceParameters:
    """How the beam's angle of incidence changes the secondary-electron yield.

    (The sputter yield's angle dependence is Yamamura's formula with its parameters computed
    from the ion and the target: :mod:`fibsims_twin.sputtering`.)
    """

    # Ion-induced kinetic electron emission grows as 1 / cos(theta) (the secant law: the ion's
    # path within the electrons' escape depth grows so), the law measured and modelled by
    # Castaldo et al., Microsc. Microanal. 17, 624 (2011) for Ga+ and He+:
    # delta(theta) = delta(0) / cos(theta)^n, n = 1.
    se_yield_secant_exponent: float = 1.0
    # Castaldo et al. (2011): near grazing incidence the yield falls below the secant law
    # (backscattered ions, recoils leave); ASSUMED: the law is held at its value at this angle.
    se_yield_max_incidence_deg: float = 80.0
