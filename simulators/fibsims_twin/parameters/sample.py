"""Parameters of the sample: phases, composition, particles, grains, cracks, pores, Li field.

Sources are cited by the keys of the Sources section of ``docs/physics.md`` (e.g. [Chen2020]);
ASSUMED marks values with no published source (the comment gives the reasoning).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims_twin.parameters.sputtering import YAMAMURA_TAWARA_ELEMENTS, ElementSputterData


@dataclass(frozen=True)
class MaterialParameters:
    """Composition, density and sputtering of the three phases of the phantom."""

    # NMC811: Li_x Ni0.8 Mn0.1 Co0.1 O2 ([Kondrakov2017]); Li content x varies (see
    # PhantomParameters)
    nmc_ni_per_formula: float = 0.8  # NMC811 formula
    nmc_mn_per_formula: float = 0.1  # NMC811 formula
    nmc_co_per_formula: float = 0.1  # NMC811 formula
    nmc_o_per_formula: float = 2.0  # NMC811 formula
    # Theoretical density ~4.7-4.8 g/cm3, Li atom density ~2.95e22 cm^-3 (R-3m cell, a ~2.87 A,
    # c ~14.2 A, [Kondrakov2017]), i.e. 2.95e22 formula units x 4 atoms (at x = 1).
    nmc_atom_density_per_cm3: float = 4 * 2.95e22
    # CBD: carbon black + PVDF (CH2CF2)n; its carbon : PVDF mass ratio is the electrode's
    # composition (PhantomParameters: active / carbon / binder mass fractions)
    carbon_molar_mass_g_per_mol: float = 12.011  # IUPAC standard atomic weight
    pvdf_monomer_molar_mass_g_per_mol: float = 64.035  # C2H2F2 from IUPAC atomic weights
    cbd_atom_density_per_cm3: float = 1.0e23  # ASSUMED: ~1.8-2.0 g/cm3 carbon and PVDF
    # Pore filler: cured epoxy, ASSUMED DGEBA-like C21 H24 O4 (amine hardener N neglected)
    epoxy_c_per_formula: float = 21.0  # ASSUMED
    epoxy_h_per_formula: float = 24.0  # ASSUMED
    epoxy_o_per_formula: float = 4.0  # ASSUMED
    epoxy_atom_density_per_cm3: float = 1.0e23  # ASSUMED: ~1.2 g/cm3, ~7 g/mol per atom
    # Sputtering by 30 keV Xe+ (volume per dose Yv at normal incidence; the angle enters through
    # fibsims_twin.sputtering). Yamamura & Tawara (1996) yields of the elements (table below),
    # mixed by atomic fraction at the reference Li content, give 6.5 atoms/ion for NMC811, i.e.
    # 0.342 um^3/nC with the atom density above (+-50 %: the formula and the Eckstein fits differ
    # by that much, [Eckstein2003]; the linear mixing of a compound is ASSUMED). Tested against the
    # derivation; the column times patterns with it.
    nmc_volume_per_dose_um3_per_nc: float = 0.34
    nmc_reference_li_per_formula: float = 1.0  # derived: the atom density is quoted at x = 1
    sputter_elements: dict[str, ElementSputterData] = field(
        default_factory=lambda: dict(YAMAMURA_TAWARA_ELEMENTS)
    )
    # [Smith2023]: binder and epoxy mill at different rates (differential milling -> curtains).
    # The collision-cascade estimate above gives CBD 0.19 and epoxy 0.13 um^3/nC, but polymers
    # lose mass under ion beams mostly by chain scission and volatile fragments, which the
    # cascade formula leaves out; ASSUMED 1.5 x and 2 x NMC's rate (faster than the oxide).
    cbd_volume_per_dose_um3_per_nc: float = 0.51
    epoxy_volume_per_dose_um3_per_nc: float = 0.68


@dataclass(frozen=True)
class PhantomParameters:
    """Secondary particles (a packing of ellipsoids), the electrode composition and the CBD,
    the Li field."""

    default_porosity: float = 0.335  # [Chen2020] porosity
    porosity_min: float = 0.05  # ASSUMED: the range the calibration is meant for (> pores+cracks)
    porosity_max: float = 0.60  # ASSUMED: as the recipe schema (electrodes 0.18-0.44)
    mean_radius_um: float = 5.22  # [Chen2020]: PyBaMM particle radius
    radius_log_sigma: float = 0.2  # ASSUMED: lognormal spread of equivalent-sphere radii
    radius_min_fraction: float = 0.5  # ASSUMED: radii clipped to [0.5, 1.8] x mean
    radius_max_fraction: float = 1.8  # ASSUMED
    # ASSUMED: agglomerates can be elongated (semi-axes 3.5 x 2.8 x 6.5 um, long / mean short
    # = 2.1). ASSUMED: this share of particles is prolate with an aspect drawn in the range below.
    elongated_fraction: float = 0.3
    elongation_min: float = 1.4  # ASSUMED
    elongation_max: float = 2.2  # ASSUMED (the example above, ~2.1)
    axis_jitter_sigma: float = 0.08  # ASSUMED: volume-preserving triaxial scatter of every particle
    # ASSUMED: per-particle mean Li content x of Li_x(NMC811), a partly delithiated electrode
    soc_mean: float = 0.7
    soc_sigma: float = 0.12  # ASSUMED: particle-to-particle spread (SOC heterogeneity)
    soc_min: float = 0.2  # ASSUMED: x is clipped to [0.2, 1.0]
    soc_max: float = 1.0  # NMC811 formula: x <= 1
    # ASSUMED: surface-minus-core contrast of x, drawn per particle with zero mean (core-shell)
    soc_gradient_sigma: float = 0.1
    # ASSUMED: grain-to-grain spread of x within a particle (primaries delithiate at different
    # rates: orientation and size dependent; SOC differs within particles)
    grain_soc_sigma: float = 0.04
    # Surface reconstruction layer: cycled Ni-rich layered oxides grow a Li-poor rock-salt
    # (NiO-like) layer a few nm thick at the particle surface, thicker after cycling (Lin et al.,
    # Nat. Commun. 5 (2014) 3529: 2-5 nm pristine, ~10-20 nm after cycling). ASSUMED 15 nm, and
    # x lowered by 0.5 there (rock salt holds little Li).
    surface_layer_thickness_nm: float = 15.0
    surface_layer_soc_delta: float = -0.5
    # numerical: candidates are drawn in cubic cells of this size; part of the phantom's identity
    # (changing it changes the realisation, not the statistics). It must exceed two of the
    # largest semi-axis plus two relaxation shifts, so only neighbouring cells can touch.
    cell_size_um: float = 64.0
    # numerical: the packing (fibsims_twin.packing): Jacobi rounds of pair pushes, the halo of
    # neighbouring candidates each cell is relaxed with, and the largest shift of a candidate
    packing_rounds: int = 12
    packing_halo_um: float = 16.0
    packing_max_shift_um: float = 6.0
    # ASSUMED: two particles may meet over a contact flattened by this share of their supports
    # along the line of centres (calendering presses secondaries together); deeper overlaps are
    # removed by shrinking. 0 would be a hard packing, which local rules cannot make dense
    # enough for an 8:1:1 electrode at 30 % porosity (packing.py).
    contact_flattening: float = 0.1
    # numerical: the calibration's reference packing, a periodic cube of this many cells a side
    packing_reference_cells: int = 2
    packing_reference_intensities: int = 6  # numerical: points of the intensity -> fraction curve
    # Electrode composition by mass, active : carbon black : PVDF = 8 : 1 : 1 (ASSUMED: the
    # common laboratory slurry)
    active_mass_fraction: float = 0.8
    carbon_mass_fraction: float = 0.1
    binder_mass_fraction: float = 0.1
    # Densities: NMC811 theoretical ~4.7-4.8 g/cm3 (derived above); carbon black (acetylene black,
    # Super P) ~1.8-2.0 g/cm3 and PVDF 1.78 g/cm3 (manufacturers' data sheets, e.g. Imerys
    # Super P Li; Solvay Solef PVDF 1.75-1.80)
    nmc_density_g_per_cm3: float = 4.75
    carbon_black_density_g_per_cm3: float = 1.9
    pvdf_density_g_per_cm3: float = 1.78
    # ASSUMED: internal (nano)porosity of the carbon-binder domain. FIB-SEM tomography of CBD
    # reports roughly half of its volume as pores below ~100 nm (e.g. Zielke et al., Adv. Energy
    # Mater. 5 (2015) 1401612, and Vierrath et al., Electrochem. Commun. 60 (2015) 176); not
    # checked against those papers here, hence ASSUMED at 0.5.
    cbd_nanoporosity: float = 0.5
    # ASSUMED: the binder collects at necks: a pore point is CBD within the neck reach of two
    # particles, or within this share of the neck reach of one (a thinner surface coating). The
    # neck reach itself is calibrated so the CBD volume matches the composition.
    cbd_surface_reach_share: float = 0.4
    # ASSUMED: correlation length of the CBD's nanoporous texture (pores of ~50-100 nm, the
    # scale of carbon black primary particles, ~30-50 nm, and their aggregates)
    cbd_texture_length_nm: float = 60.0
    cbd_texture_voxel_nm: float = 20.0  # numerical: voxel of the texture tile
    cbd_texture_tile_voxels: int = 128  # numerical: tile side (period 2.56 um, seeded)
    # ASSUMED: Li atomic fraction of the CBD (electrolyte residue, LiF / Li2CO3 of the SEI and
    # the CEI on carbon); the electrode has seen electrolyte (it is partly delithiated)
    cbd_li_atomic_fraction: float = 0.01
    origin_offset_um: tuple[float, float, float] = (137.0, 59.0, 211.0)  # numerical: z=0 unspecial
    cell_cache_size: int = 1024  # numerical: cells kept in memory (each of its three caches)
    shape_quadrature_points: int = 8192  # numerical: E[V] of particle shapes for the calibration


@dataclass(frozen=True)
class MicrostructureParameters:
    """Inside the particles: primary grains, intergranular cracks with Li loss, internal pores."""

    # ASSUMED: primary particles a few hundred nm (100-500 nm). Grains are the Voronoi cells
    # of seeds jittered in a cubic lattice; spacing 0.25 um gives cells of ~0.31 um equivalent
    # diameter.
    grain_spacing_um: float = 0.25
    grain_jitter: float = 0.8  # ASSUMED: seeds spread over this share of their lattice cell
    # numerical: lattice lines are displaced by up to +-irregularity/2 spacings, so the grain
    # statistics have no period (faces 25 nm apart would otherwise meet lattice planes)
    grain_lattice_irregularity: float = 0.5
    # [Ryu2018], [Kondrakov2017]: cycling opens intergranular cracks in secondary particles. ASSUMED
    # model: each particle has a Poisson number (this mean, at most the max) of radial crack planes
    # through its centre; a grain boundary belongs to a crack when its midpoint lies within the band
    # of a plane and its normal is within acos(alignment) of the plane's normal, so the crack
    # zigzags along grain boundaries; it is open with probability continuity x sqrt(1 - rho^2) (rho:
    # normalised radius of the midpoint), so cracks run from the core and break up toward the
    # surface.
    crack_opening_nm: float = 40.0
    crack_planes_mean: float = 2.0
    crack_planes_max: int = 4
    crack_band_um: float = 0.2
    crack_alignment_min: float = 0.35
    crack_continuity: float = 0.9
    # [Ryu2018]: electrolyte penetrates intergranular cracks, whose faces degrade (lose Li).
    # ASSUMED: x drops by this much at the crack wall and recovers over the depletion length.
    crack_li_depletion: float = 0.15
    crack_depletion_length_nm: float = 100.0
    # ASSUMED: closed internal pores, spheres of this radius filling this share of a particle,
    # at most one per cube of the spacing (so they never overlap)
    internal_pore_radius_um: float = 0.12
    internal_pore_fraction: float = 0.02
    internal_pore_spacing_um: float = 0.5
    # Morphology of the primaries: "equiaxed" (Voronoi cells) or "radial" (cells merged into
    # columns along the particle's radius, fibsims_twin.radial). Ni-rich secondaries often show
    # elongated, radially aligned (rod-like) primaries, notably concentration-gradient and
    # doped NMC; ASSUMED dimensions (no measured distribution at hand): columns one lattice
    # spacing wide and three long, i.e. ~0.25 x 0.75 um.
    primary_morphology: str = "equiaxed"
    radial_grain_width_um: float = 0.25
    radial_grain_aspect: float = 3.0
    # numerical: grain boundaries are found on a grid this many times finer than the lattice
    # and interpolated to the pixels (exact between pixels that see the same two grains).
    grain_grid_subdivisions: int = 3
    crack_calibration_points: int = 40_000  # numerical: sample for the crack volume share
