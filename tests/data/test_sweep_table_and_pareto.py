"""The sweep's table (columns in the fixed order, metrics flattened and sorted, empty cells for
what a variant lacks) and its Pareto front (less time and better quality win)."""

from __future__ import annotations

from fibsims.data.pareto import Point, higher_is_better, pareto_front, write_pareto_plot
from fibsims.data.sweep_table import read_table, write_table


def _row(variant, status, quality=None, **fields):
    return {
        "variant": variant,
        "run_dir": f"variants/{variant}",
        "status": status,
        "error": fields.pop("error", ""),
        "seed": 1,
        "values": fields.pop("values", {}),
        "quality": quality or {},
        **fields,
    }


def test_table_columns_and_cells(tmp_path):
    rows = [
        _row("001", "done", {"b": 0.5, "a": {"x": 1}}, values={"sims_raster.frames": 5},
             simulated_seconds=7200.0, slices_done=6, data_bytes=123),
        _row("002", "failed", error="the run ended paused: why",
             values={"sims_raster.frames": [1, 2]}),
        _row("003", "pending"),
    ]  # fmt: skip
    path = tmp_path / "sweep.csv"
    write_table(path, ["sims_raster.frames"], rows)
    table = read_table(path)
    assert list(table[0]) == [
        "variant", "run_dir", "status", "error", "seed", "sims_raster.frames",
        "simulated_seconds", "instrument_hours", "slices_done", "data_bytes",
        "quality.a.x", "quality.b",
    ]  # fmt: skip
    assert table[0]["instrument_hours"] == "2.0" and table[0]["quality.a.x"] == "1"
    assert table[1]["sims_raster.frames"] == "[1, 2]" and table[1]["quality.b"] == ""
    assert table[1]["error"] == "the run ended paused: why"
    assert table[2]["status"] == "pending" and table[2]["simulated_seconds"] == ""


def test_pareto_front_keeps_only_undominated_points():
    points = [
        Point("slow-good", 10, 0.9),
        Point("fast-bad", 1, 0.5),
        Point("mid-worse", 5, 0.4),  # dominated by fast-bad
        Point("mid", 5, 0.7),
        Point("slow-same", 12, 0.9),  # as good, slower
    ]
    assert [p.label for p in pareto_front(points)] == ["fast-bad", "mid", "slow-good"]
    assert [p.label for p in pareto_front(points, higher=False)] == ["fast-bad", "mid-worse"]


def test_metric_direction_is_read_from_its_name(tmp_path):
    assert higher_is_better("quality.li_map_pearson_r_within_particles")
    assert not higher_is_better("quality.slice_thickness_nm_rms_error")
    assert not higher_is_better("drift_residual_px_rms")
    front = write_pareto_plot(tmp_path / "p.png", [Point("a", 1, 0.5)], "quality.x")
    assert [p.label for p in front] == ["a"] and (tmp_path / "p.png").stat().st_size > 5000
    write_pareto_plot(tmp_path / "empty.png", [], "quality.x")
    assert (tmp_path / "empty.png").exists()
