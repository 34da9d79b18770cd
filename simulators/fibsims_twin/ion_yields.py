"""Secondary-ion yields with their matrix effect, and the spectrometer's mass-dependent duty cycle.

Why a model and not a constant: the share of sputtered atoms that leave as ions depends on the
matrix they leave from (the *matrix effect*). Oxygen in the matrix raises the positive-ion
yields of electropositive elements by orders of magnitude (Benninghoven, Ruedenauer & Werner,
"Secondary Ion Mass Spectrometry", Wiley 1987), so Li+ from the NMC oxide is the bright case
and the same Li in the oxygen-free carbon binder would be far dimmer. Within NMC the Li+ yield
changes with the lithiation x of Li_x(NMC811): whether a Li map is the Li content or partly the
matrix is exactly what a twin user must be able to study. Per sputtered atom of ``element`` in
``phase`` (positive polarity):

    P = P_oxide(element) x matrix_factor(phase) x (x / x_ref)^gamma   (the last for Li in NMC)

and the useful yield (ions *detected* per sputtered atom) is P x T x D(m), with T the
transmission and D(m) the duty cycle of the orthogonal extraction:

    D(m) = min(1, D_ref sqrt(m / m_ref))

(heavier ions cross the extraction region more slowly, so a pulse catches more of them;
Chernushevich, Loboda & Thomson, J. Mass Spectrom. 36 (2001) 849). Negative ions keep one yield
per element (no matrix factor is modelled for them).
"""

from __future__ import annotations

import math

import numpy as np

from fibsims.instrument import Polarity
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters


def is_positive(polarity: Polarity) -> bool:
    return Polarity(polarity) is Polarity.POSITIVE


def duty_cycle(mass_u: float, p: TofParameters) -> float:
    """Share of a continuous ion stream of mass ``mass_u`` one extraction pulse catches."""
    return min(1.0, p.duty_cycle_reference * math.sqrt(mass_u / p.duty_cycle_reference_mass_u))


def duty_cycles(mass_u: np.ndarray, p: TofParameters) -> np.ndarray:
    """:func:`duty_cycle` of an array of masses (float64)."""
    ratio = np.asarray(mass_u, dtype=np.float64) / p.duty_cycle_reference_mass_u
    return np.minimum(1.0, p.duty_cycle_reference * np.sqrt(ratio))


def ion_yield(element: str, polarity: Polarity, p: TofParameters) -> float:
    """Ions emitted per sputtered atom of ``element`` from the oxide at x = x_ref."""
    table = p.ion_yield_positive if is_positive(polarity) else p.ion_yield_negative
    return table.get(element, p.ion_yield_other)


def matrix_factors(polarity: Polarity, p: TofParameters) -> np.ndarray:
    """Per material label, the factor on the oxide's ion yield (float32; vacuum 0)."""
    table = np.ones(len(Material), dtype=np.float32)
    if is_positive(polarity):
        table[Material.CBD] = p.matrix_factor_positive_cbd
        table[Material.PORE] = p.matrix_factor_positive_epoxy
    table[Material.VACUUM] = 0.0
    return table


def lithiation_factor(x: np.ndarray, p: TofParameters) -> np.ndarray:
    """(x / x_ref)^gamma: how the Li+ yield of Li_x(NMC) follows its lithiation (float32)."""
    ratio = np.maximum(x, 0, dtype=np.float32) / np.float32(p.li_yield_reference_lithiation)
    if p.li_yield_lithiation_exponent == 1.0:
        return ratio
    return np.power(ratio, np.float32(p.li_yield_lithiation_exponent))


def useful_yield(element: str, mass_u: float, polarity: Polarity, p: TofParameters) -> float:
    """Ions detected per sputtered atom from the oxide at x_ref: P x T x D(m)."""
    return ion_yield(element, polarity, p) * p.transmission * duty_cycle(mass_u, p)
