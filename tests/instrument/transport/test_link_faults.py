"""The client survives lost replies, cut connections and a server restart without executing a
call twice; a dead or amnesic server becomes a clear HardwareFault within a bounded time."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from fibsims.instrument import InstrumentError, InstrumentOptions, MillPattern, PatternKind
from fibsims.instrument.transport import (
    CallTimeout,
    FaultPlan,
    ServerUnreachable,
    SessionLost,
    connect,
)
from fibsims.instrument.transport.faults import FaultInjector

OPTIONS = InstrumentOptions(seed=1)


def _mill(instrument, i: int) -> float:
    pattern = MillPattern(PatternKind.BOX, 1.0, 1.0, 1.0, front_z_um=0.025 * (i + 1))
    return instrument.column.mill(pattern).face_z_um


def _workload(instrument, n: int) -> None:
    """Interleaved actions and reads; the face must advance by exactly one step per mill."""
    for i in range(n):
        instrument.column.unblank()
        assert _mill(instrument, i) == pytest.approx(0.025 * (i + 1))
        instrument.column.blank()
        assert instrument.clock.now_s() == pytest.approx(30.0 * (i + 1))


def test_dropped_replies_are_recovered_and_nothing_runs_twice(serve, factory, fast):
    server = serve(factory, faults=FaultPlan(drop_replies=0.3, seed=5))
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    _workload(instrument, 25)
    stats = server.stats()
    assert stats["replies_dropped"] >= 15
    assert stats["duplicates_suppressed"] >= 5
    assert factory.script.calls["column.mill"] == 25 == stats["executed"]["column.mill"]
    assert factory.script.calls["column.unblank"] == 25
    instrument.close()


def test_cut_connections_are_reconnected(serve, factory, fast):
    server = serve(factory, faults=FaultPlan(disconnect_every=9))
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    _workload(instrument, 12)
    assert server.stats()["disconnects"] >= 4
    assert factory.script.calls["column.mill"] == 12
    instrument.close()


def test_a_restart_that_keeps_the_session_is_invisible_to_the_run(serve, factory, fast):
    plan = FaultPlan(restart_after_calls=20, restart_downtime_ms=300)
    server = serve(factory, faults=plan)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    _workload(instrument, 15)
    assert server.stats()["restarts"] == 1
    assert factory.script.calls["column.mill"] == 15
    assert len(factory.opened) == 1, "the client never needed a new session"
    instrument.close()


def test_a_restart_that_loses_the_session_stops_with_a_clear_fault(serve, factory, fast):
    plan = FaultPlan(restart_after_calls=6, restart_downtime_ms=100, forget_on_restart=True)
    server = serve(factory, faults=plan)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    with pytest.raises(SessionLost, match="lost this session") as caught:
        _workload(instrument, 10)
    assert "resume" in str(caught.value)
    last = instrument.link.last_clock_s
    assert instrument.clock.now_s() == last, "a lost link reports the last instrument time"
    started = time.monotonic()
    with pytest.raises(SessionLost):
        instrument.column.blank()
    assert time.monotonic() - started < 0.1, "once lost, calls fail at once"
    instrument.close()


def test_a_dead_server_is_detected_within_the_bound(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    instrument.column.blank()
    server.stop()
    started = time.monotonic()
    with pytest.raises(ServerUnreachable, match="is it running"):
        instrument.column.unblank()
    elapsed = time.monotonic() - started
    assert fast.dead_after_s <= elapsed < fast.dead_after_s + 1.0
    instrument.close()


def test_no_server_at_the_address_is_a_clear_error(fast):
    started = time.monotonic()
    with pytest.raises(ServerUnreachable, match=r"tcp://127\.0\.0\.1:9 .*is it running"):
        connect("tcp://127.0.0.1:9", OPTIONS, settings=fast)
    assert time.monotonic() - started < fast.dead_after_s + 1.0


def test_a_call_longer_than_the_silence_bound_survives_on_heartbeats(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    factory.script.mill_wall_s = fast.dead_after_s * 1.5
    instrument.column.unblank()
    assert _mill(instrument, 0) == pytest.approx(0.025)
    assert factory.script.calls["column.mill"] == 1
    instrument.close()


def test_a_call_past_its_timeout_is_abandoned(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=replace(fast, timeout_s=0.3))
    factory.script.mill_wall_s = 1.0
    instrument.column.unblank()
    with pytest.raises(CallTimeout, match=r"did not finish within 0\.3 s"):
        _mill(instrument, 0)
    instrument.close()


def test_delayed_replies_only_slow_the_calls(serve, factory, fast):
    server = serve(factory, faults=FaultPlan(delay_ms=20))
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    started = time.monotonic()
    _workload(instrument, 3)
    assert time.monotonic() - started >= 12 * 0.02
    assert factory.script.calls["column.mill"] == 3
    instrument.close()


def test_fault_injection_is_reproducible():
    plan = FaultPlan(drop_replies=0.1, seed=11)
    injectors = [FaultInjector(plan), FaultInjector(plan)]
    draws = [[injector.next_reply().drop for _ in range(200)] for injector in injectors]
    assert draws[0] == draws[1] and 5 < sum(draws[0]) < 40


def test_once_the_server_is_lost_the_wind_down_fails_fast_with_an_instrument_error(
    serve, factory, fast
):
    """The engine's wind-down blanks the beam and asks whether it is blanked; on a lost link
    both must fail at once with an InstrumentError (the engine reports the beam state as
    unknown), not hang for another dead_after_s and not raise anything else."""
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    instrument.column.unblank()
    factory.script.mill_wall_s = 0.3
    stopper = threading.Timer(0.05, server.stop)
    stopper.start()
    started = time.monotonic()
    with pytest.raises(ServerUnreachable):
        _mill(instrument, 0)
    assert time.monotonic() - started < fast.dead_after_s + 1.0
    stopper.join()
    for wind_down in (instrument.column.blank, instrument.column.is_blanked):
        started = time.monotonic()
        with pytest.raises(InstrumentError) as caught:
            wind_down()
        assert isinstance(caught.value, ServerUnreachable), caught.value
        assert time.monotonic() - started < 0.05
    assert instrument.clock.now_s() == instrument.link.last_clock_s
    assert factory.opened[0][1].column.blanked, "the server blanked it as it stopped"
    started = time.monotonic()
    instrument.close()
    assert time.monotonic() - started < 0.5, "closing does not wait for a lost server"
