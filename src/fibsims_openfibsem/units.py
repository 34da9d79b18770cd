"""Every unit conversion between fibsims and OpenFIBSEM, in one place.

Why: fibsims names its units in its field names (``x_um``, ``current_na``, ``dwell_us``),
OpenFIBSEM works in SI throughout (metres, amperes, volts, seconds, radians). Each crossing
goes through one of these functions, so a factor of 1e3 cannot hide in a device method.
"""

from __future__ import annotations

import math

M_PER_UM = 1e-6
A_PER_NA = 1e-9
V_PER_KV = 1e3
S_PER_US = 1e-6


def um_to_m(value_um: float) -> float:
    return float(value_um) * M_PER_UM


def m_to_um(value_m: float | None) -> float:
    """``None`` (an axis fibsem did not report) reads as 0."""
    return 0.0 if value_m is None else float(value_m) / M_PER_UM


def na_to_a(value_na: float) -> float:
    return float(value_na) * A_PER_NA


def a_to_na(value_a: float) -> float:
    return float(value_a) / A_PER_NA


def kv_to_v(value_kv: float) -> float:
    return float(value_kv) * V_PER_KV


def v_to_kv(value_v: float) -> float:
    return float(value_v) / V_PER_KV


def us_to_s(value_us: float) -> float:
    return float(value_us) * S_PER_US


def deg_to_rad(value_deg: float) -> float:
    return math.radians(float(value_deg))


def rad_to_deg(value_rad: float | None) -> float:
    """``None`` (an axis fibsem did not report) reads as 0."""
    return 0.0 if value_rad is None else math.degrees(float(value_rad))


def wrap_deg(angle_deg: float) -> float:
    """``angle_deg`` in [-180, 180): rotations are read back the short way round."""
    return (float(angle_deg) + 180.0) % 360.0 - 180.0
