"""A volume as an AmiraMesh file (``.am``) for Avizo / Amira, and a reader of what it writes.

Why AmiraMesh: it is Avizo's and Amira's own format for a uniform lattice, opened by
drag-and-drop with its geometry; a TIFF stack would ask the user for the voxel size. The file
is an ASCII header then the raw voxels (``BINARY-LITTLE-ENDIAN``, float32, x fastest, then y,
then z, as numpy's C order of a (z, y, x) array):

```
# AmiraMesh BINARY-LITTLE-ENDIAN 2.1

define Lattice W H Z

Parameters {
    Units { Coordinates "microns" }
    Content "WxHxZ float, uniform coordinates",
    BoundingBox xmin xmax ymin ymax zmin zmax,
    CoordType "uniform",
    DataWindow low high,
    fibsims { Volume "...", Unit "...", Description "..." }
}

Lattice { float Data } @1

# Data section follows
@1
<W*H*Z float32>
```

``BoundingBox`` is in um and, as Amira defines it for uniform lattices, spans the centres of
the first and last voxels (voxel size = (max - min) / (n - 1)): x and y in the face frame,
z the evenly resampled face positions. ``DataWindow`` is the display range; NaN is no data.
The reader (:func:`read_amira`) understands exactly this layout, which is what the tests use
to check the file, and what a script can use to read an export back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fibsims.data.volumes import VolumeFile

MAGIC = "# AmiraMesh BINARY-LITTLE-ENDIAN 2.1"
DATA_MARK = b"\n@1\n"
HEADER_MAX_BYTES = 65536
Tick = Callable[[int, int], None]


def _quote(text: str) -> str:
    """A header string: Latin-1, with no quote, newline or bracket inside (brackets end a
    string early for some third-party parsers, ahds among them)."""
    clean = text.translate(str.maketrans({'"': "'", "\n": " ", "(": "", ")": "", "[": "", "]": ""}))
    return '"' + clean.encode("latin-1", "replace").decode("latin-1") + '"'


def amira_header(
    shape: tuple[int, int, int],
    voxel_size_um: tuple[float, float, float],
    origin_um: tuple[float, float, float],
    value_range: tuple[float, float],
    name: str,
    unit: str,
    description: str,
) -> str:
    planes, height, width = shape
    dz, dy, dx = voxel_size_um
    z0, y0, x0 = origin_um
    box = [x0, x0 + (width - 1) * dx, y0, y0 + (height - 1) * dy, z0, z0 + (planes - 1) * dz]
    lines = [
        MAGIC,
        "",
        f"define Lattice {width} {height} {planes}",
        "",
        "Parameters {",
        '    Units { Coordinates "microns" }',
        f'    Content "{width}x{height}x{planes} float, uniform coordinates",',
        "    BoundingBox " + " ".join(f"{v:.9g}" for v in box) + ",",
        '    CoordType "uniform",',
    ]
    low, high = value_range
    if np.isfinite(low) and np.isfinite(high):
        lines.append(f"    DataWindow {low:.9g} {high:.9g},")
    lines += [
        "    fibsims {",
        f"        Volume {_quote(name)},",
        f"        Unit {_quote(unit)},",
        f"        Description {_quote(description)}",
        "    }",
        "}",
        "",
        "Lattice { float Data } @1",
        "",
        "# Data section follows",
        "@1",
    ]
    return "\n".join(lines) + "\n"


def write_amira(volumes: VolumeFile, name: str, out: Path, tick: Tick | None = None) -> None:
    """Write volume ``name`` (the even grid) of ``volumes`` to ``out``, plane by plane."""
    info = volumes.info(name)
    data = volumes.volume(name)
    header = amira_header(
        info.shape,
        info.voxel_size_um,
        info.origin_um,
        info.value_range,
        name,
        info.unit,
        info.description,
    )
    planes = info.shape[0]
    with open(out, "wb") as handle:
        handle.write(header.encode("latin-1"))
        for k in range(planes):
            handle.write(np.ascontiguousarray(data[k], dtype="<f4").tobytes())
            if tick is not None:
                tick(k + 1, planes)
        handle.write(b"\n")


@dataclass(frozen=True)
class AmiraVolume:
    """What :func:`read_amira` found: the lattice, its geometry and the voxels (z, y, x)."""

    lattice: tuple[int, int, int]
    """(W, H, Z) as the header defines it."""
    bounding_box_um: tuple[float, float, float, float, float, float]
    parameters: str
    """The Parameters block as text."""
    data: np.ndarray

    @property
    def voxel_size_um(self) -> tuple[float, float, float]:
        """(z, y, x) from the bounding box (voxel centres) and the lattice."""
        (w, h, z), b = self.lattice, self.bounding_box_um
        return tuple(  # type: ignore[return-value]
            (hi - lo) / (n - 1) if n > 1 else float("nan")
            for lo, hi, n in ((b[4], b[5], z), (b[2], b[3], h), (b[0], b[1], w))
        )


def read_amira(path: Path) -> AmiraVolume:
    """Read an AmiraMesh file of the layout :func:`write_amira` writes (the voxels memory-mapped,
    read-only); ``ValueError`` for any other."""
    with open(path, "rb") as handle:
        raw = handle.read(HEADER_MAX_BYTES)
    if not raw.startswith(MAGIC.encode("latin-1")):
        raise ValueError(f"{path} is not a little-endian binary AmiraMesh 2.1 file")
    mark = raw.find(DATA_MARK, raw.find(b"# Data section follows"))
    if mark < 0:
        raise ValueError(f"{path}: no data section")
    header = raw[:mark].decode("latin-1")
    lattice = re.search(r"define Lattice (\d+) (\d+) (\d+)", header)
    box = re.search(r"BoundingBox ([^,\n]+),", header)
    kind = re.search(r"Lattice \{ (\w+) (\w+) \} @1", header)
    params = re.search(r"Parameters \{(.*)\n\}\n", header, re.S)
    if lattice is None or box is None or kind is None or params is None:
        raise ValueError(f"{path}: the header lacks the lattice, bounding box or data block")
    if kind.group(1) != "float":
        raise ValueError(f"{path}: reads float lattices only, found {kind.group(1)}")
    w, h, z = (int(v) for v in lattice.groups())
    start = mark + len(DATA_MARK)
    count = w * h * z
    if Path(path).stat().st_size < start + 4 * count:
        raise ValueError(f"{path}: the data section is shorter than the lattice")
    data = np.memmap(path, dtype="<f4", mode="r", offset=start, shape=(z, h, w))
    bounds = tuple(float(v) for v in box.group(1).split())
    if len(bounds) != 6:
        raise ValueError(f"{path}: the bounding box has {len(bounds)} numbers, not 6")
    return AmiraVolume((w, h, z), bounds, params.group(1), data)  # type: ignore[arg-type]
