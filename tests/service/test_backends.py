"""``fibsims backends`` describes every installed backend by opening it; a backend that cannot
be opened is listed with the reason, never a traceback."""

from __future__ import annotations

from types import SimpleNamespace

from fibsims.service import backends
from fibsims.service.backends import describe_backend_lines, describe_backends


def test_the_twin_declares_its_ladder_cost_model_and_ground_truth():
    (twin,) = [r for r in describe_backends() if r["name"] == "sim"]
    assert twin["opened"] and twin["ion_species"] == "Xe"
    assert twin["current_ladder_na"] == sorted(twin["current_ladder_na"])
    assert 15.0 in twin["current_ladder_na"] and twin["voltage_kv"] == 30.0
    assert twin["cost_model"] and twin["ground_truth"]
    assert twin["voltage_range_kv"] == [2.0, 30.0]
    assert list(twin["capabilities"]["current_ladder_na"]) == twin["current_ladder_na"]


class _Column:
    ion_species = "Ga"

    def current_ladder_na(self):
        return (1.0, 0.1)

    def voltage_kv(self):
        return 5.0

    def blank(self):
        pass


def _entry(name, factory):
    return SimpleNamespace(name=name, value=f"vendor.{name}:open", dist=None, load=lambda: factory)


def test_a_backend_that_fails_to_open_is_listed_with_the_reason(monkeypatch):
    def broken(options):
        raise OSError("the microscope PC does not answer")

    def bare(options):
        return SimpleNamespace(
            name="bare",
            column=_Column(),
            costs=None,
            truth=None,
            vacuum=None,
            capabilities=None,
            close=lambda: None,
        )

    found = [_entry("broken", broken), _entry("bare", bare)]
    monkeypatch.setattr(backends, "entry_points", lambda group: found)
    records = describe_backends()
    assert [r["name"] for r in records] == ["bare", "broken"]
    bare_record, broken_record = records
    assert not broken_record["opened"] and "does not answer" in broken_record["error"]
    assert bare_record["current_ladder_na"] == [0.1, 1.0]
    assert bare_record["voltage_range_kv"] is None and bare_record["capabilities"] is None
    assert not bare_record["cost_model"] and not bare_record["ground_truth"]
    text = "\n".join(describe_backend_lines(records))
    assert "range not declared" in text and "estimates are lower bounds" in text
    assert "capabilities:   not declared (preflight checks the ladder only)" in text
    assert "could not be opened to describe it: OSError" in text


def test_no_backend_installed_says_where_they_are_looked_for(monkeypatch):
    monkeypatch.setattr(backends, "entry_points", lambda group: [])
    assert describe_backends() == []
    assert "fibsims.instruments" in describe_backend_lines([])[0]
