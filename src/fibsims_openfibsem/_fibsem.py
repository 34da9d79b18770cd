"""The one place fibsem is imported: quietly, and with an actionable error when it is missing.

Why quietly: ``fibsem.config`` prints its configuration path to stdout on import, which would
land in the middle of ``fibsims run --json-events``' event stream, and fibsem logs through the
root logger's module functions, which install a stderr handler on a root that has none (a
NullHandler is held on the root for the import, as :mod:`fibsims_openfibsem.factory` holds one
while the backend is open).
"""

from __future__ import annotations

import contextlib
import io
import logging

from fibsims.instrument.errors import InstrumentError

INSTALL_HINT = "pip install 'fibsims[openfibsem]' (OpenFIBSEM, PyPI package fibsem>=0.5.3,<0.6)"

_hold = logging.NullHandler()
logging.getLogger().addHandler(_hold)
try:
    with contextlib.redirect_stdout(io.StringIO()):
        import fibsem.config  # noqa: F401  (prints on import; imported here, once)
        from fibsem import manufacturers, utils
        from fibsem.microscope import FibsemMicroscope
        from fibsem.structures import (
            BeamType,
            CrossSectionPattern,
            FibsemImage,
            FibsemMillingSettings,
            FibsemRectangleSettings,
            FibsemStagePosition,
            ImageSettings,
            Point,
        )
except ImportError as error:  # pragma: no cover - the test extra installs fibsem
    raise InstrumentError(
        f"the openfibsem backend needs OpenFIBSEM, which is not importable ({error}); "
        f"install it: {INSTALL_HINT}"
    ) from error
finally:
    logging.getLogger().removeHandler(_hold)

__all__ = [
    "BeamType",
    "CrossSectionPattern",
    "FibsemImage",
    "FibsemMicroscope",
    "FibsemMillingSettings",
    "FibsemRectangleSettings",
    "FibsemStagePosition",
    "ImageSettings",
    "Point",
    "manufacturers",
    "utils",
]
