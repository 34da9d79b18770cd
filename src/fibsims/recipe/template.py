"""The commented recipe ``fibsims recipe init`` writes: a valid start that teaches the language.

Why a template and not only the reference: a scientist starts from a file that runs and edits
it; the comments say what each section is for and the units, and the reference
(docs/recipes.md) has every field. It is the quick recipe's run (six slices, seconds on the
twin), so trying it costs nothing. A test loads it, so it cannot stop validating.
"""

from __future__ import annotations

SCHEMA_MODELINE = "# yaml-language-server: $schema={schema}"
"""First line of a recipe: editors with the YAML language server (VS Code's YAML extension,
and others) then check and complete the file as you type."""

_BODY = """\
# A fibsims recipe: what to slice and image. Check it with `fibsims validate FILE`, cost it
# with `fibsims estimate FILE`, try it on the digital twin with `fibsims run FILE --out DIR`.
# Every field, with its unit, default and bounds: docs/recipes.md. Units are in the names:
# _um micrometres, _nm nanometres, _na / _pa nanoamperes / picoamperes, _us microseconds,
# _kv kilovolts, _deg degrees.

# The recipe's name names the run folders: lowercase letters, digits, '.', '_', '-'.
recipe: my-first-recipe
version: 1                     # the recipe language version this fibsims reads
description: Six thin slices of an NMC811 cathode, SE image and 7Li+ map on each.

# What is sliced. `twin` builds the digital twin's phantom for simulated runs (hardware
# ignores it): seed 0 to 2**63-1 (same seed, same sample), porosity 0.05 to 0.6.
sample:
  name: NMC811 cathode
  twin: {phantom: nmc811, seed: 811, porosity: 0.40}

# The ion column for the whole run: source gas (Xe, Ar, O, N) and accelerating voltage.
instrument: {ion_species: Xe, voltage_kv: 30}

# The block to slice: the cut face (width x height, um), the slice thickness (nm) and how
# many slices. Depth sliced = slices x slice_thickness_nm (here 0.15 um).
volume: {face_width_um: 20, face_height_um: 15, slice_thickness_nm: 25, slices: 6}

# The steps every slice runs, in this order. Exactly one mill; it must mill at least the
# face height deep. An imaging step's product (in run.h5, sims.h5, the volumes) is named by
# its `name:`, or by its kind when it has none (a second unnamed se_image is se_image_2).
slice:
  # cut the slice: beam current in nA, pattern depth down the face in um
  - mill: {current_na: 15, pattern: cleaning_cross_section, depth_um: 16}
  # polish the fresh face at these stage rotations (deg) to remove curtaining
  - rocking_polish: {current_na: 4, angles_deg: [-20, 20], passes: 1}
  # an ion-induced secondary-electron image (the FIB's ion beam, pA): pixels [width, height],
  # dwell per pixel in us, frames summed (counts add, clipped at 65535)
  - se_image: {name: face, current_pa: 100, resolution: [192, 144], dwell_us: 3, frames: 2}
  # a ToF-SIMS raster: count maps of each peak (mass number, element, charge sign, matching
  # the polarity); frames are summed, and each frame sputters the face further
  - sims_raster:
      name: li_map
      current_pa: 800
      resolution: [64, 48]
      dwell_us: 50
      frames: 4
      polarity: positive
      peaks: [6Li+, 7Li+, 55Mn+, 58Ni+, 59Co+]

# Schedules: a task or a step on every Nth slice only (slices offset, offset + N, ...).
# A task (autofocus, auto_contrast) runs just before the slice's first image; a step,
# written as in slice:, runs after the slice's steps (or just before the slice step named
# by `before:`) and makes its product only on those slices.
every:
  - {slices: 3, do: autofocus}
  # e.g. a slow, fine SIMS raster on every 4th slice, starting with the second:
  # - slices: 4
  #   offset: 1
  #   do: {sims_raster: {name: li_fine, current_pa: 300, resolution: [256, 256],
  #                      dwell_us: 50, frames: 20, peaks: [6Li+, 7Li+]}}

# Optional: two marks milled before the first slice; every SE image finds them, and the run
# follows the drift and the face position they show. Uncomment to use:
# fiducial: {current_na: 4}

# The run stops (resumably) after this many hours of instrument time.
limits: {max_hours: 2}
"""


def template_text(schema: str | None) -> str:
    """The template, with a first line pointing editors at ``schema`` (a path relative to the
    recipe, or a URL) when one is given."""
    modeline = SCHEMA_MODELINE.format(schema=schema) + "\n" if schema else ""
    return modeline + _BODY
