"""The twin's capabilities, read off its parameters so preflight and the devices agree.

Why from the parameters: the column refuses a current off its ladder and the scans refuse a
dwell or a frame beyond their range with these very values, so a recipe that passes preflight
never fails on the twin, and one that fails preflight names what the twin really offers.
"""

from __future__ import annotations

from fibsims.instrument.capabilities import DEVICES, Capabilities, ScanCapabilities
from fibsims_twin.parameters import TwinParameters


def twin_capabilities(p: TwinParameters) -> Capabilities:
    d = p.detector

    def scan(max_px: tuple[int, int]) -> ScanCapabilities:
        return ScanCapabilities(
            max_resolution_px=max_px,
            min_dwell_us=d.min_dwell_us,
            max_dwell_us=d.max_dwell_us,
            dwell_step_us=d.dwell_step_us,
        )

    return Capabilities(
        current_ladder_na=tuple(sorted(p.column.current_ladder_na)),
        current_tolerance=p.column.current_tolerance_fraction,
        voltage_range_kv=(p.column.voltage_min_kv, p.column.voltage_max_kv),
        max_field_width_um=p.column.max_field_width_um,
        se_scan=scan(d.max_resolution_px),
        sims_scan=scan(p.tof.max_raster_px),
        stage_tilt_range_deg=(p.stage.tilt_min_deg, p.stage.tilt_max_deg),
        stage_travel_um=(
            (-p.stage.xy_limit_um, p.stage.xy_limit_um),
            (-p.stage.xy_limit_um, p.stage.xy_limit_um),
            (-p.stage.z_limit_um, p.stage.z_limit_um),
        ),
        devices=DEVICES,  # the factory wires every one (vacuum: the fault schedule's gauge)
        beam_shift_range_um=p.column.beam_shift_limit_um,
        # the stage reads back the commanded target: its rotation errors (backlash,
        # repeatability) happen after the encoder (fibsims_twin.stage), so no tolerance
        stage_tolerance_um=0.0,
        stage_tolerance_deg=0.0,
    )
