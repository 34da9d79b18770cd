"""Physical constants and unit conversions: exact definitions, not model choices."""

from __future__ import annotations

import math

ELEMENTARY_CHARGE_C = 1.602176634e-19  # SI 2019 exact
AMPERE_PER_NANOAMPERE = 1e-9
SECOND_PER_MICROSECOND = 1e-6
SECOND_PER_MINUTE = 60.0
SECOND_PER_HOUR = 3600.0
UM3_PER_CM3 = 1e12
NM_PER_UM = 1e3
PM_PER_UM = 1e6
RAD_PER_MRAD = 1e-3
RAD_PER_DEG = math.pi / 180.0
GAUSSIAN_FWHM_PER_SIGMA = 2.3548200450309493  # 2*sqrt(2*ln 2)
