"""No session ends with its beam on: the server blanks the beam of a session whose client fell
silent, was evicted, forgotten in a restart, closed, or is still open when the server stops, and
it does so on the instrument thread, never in the middle of a running call."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

import pytest

from fibsims.instrument import InstrumentOptions
from fibsims.instrument.transport import FaultPlan, LinkConfigError, LinkSettings, connect

OPTIONS = InstrumentOptions(seed=1)
PATTERN = {"kind": "box", "width_um": 1, "height_um": 1, "depth_um": 1, "front_z_um": 0.5}
WORKER = "fibsims-link-worker"


def _column(factory, index: int = 0):
    return factory.opened[index][1].column


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until ``condition`` held (polled every 2 ms); fails after ``timeout_s``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "the condition never held"
        time.sleep(0.002)
    return time.monotonic() - started


def test_a_client_that_vanishes_has_its_beam_blanked_within_its_bound(serve, factory, raw_connect):
    server = serve(factory)
    client = raw_connect(server.endpoint)
    bound_s = 0.3
    session = client.open(dead_after_s=bound_s)
    assert client.call("column.unblank", "u-1", session).ok
    column = _column(factory)
    assert not column.blanked
    client.close()  # no session.close: the client is simply gone
    waited = _wait_for(lambda: column.blanked, bound_s + 1.0)
    assert bound_s <= waited < bound_s + 0.3, f"blanked {waited:.3f} s after the client left"
    assert factory.script.log[-1] == ("column.blank", WORKER)
    stats = server.stats()
    assert stats["sessions_expired"] == 1 and stats["beams_blanked"] == 1
    assert len(server.dispatcher.sessions) == 0


def test_a_killed_client_process_has_its_beam_blanked(serve, factory):
    server = serve(factory)
    script = textwrap.dedent(
        f"""
        import os
        from fibsims.instrument import InstrumentOptions
        from fibsims.instrument.transport import LinkSettings, connect

        settings = LinkSettings(heartbeat_s=0.05, silence_s=0.15, dead_after_s=0.5)
        instrument = connect({server.endpoint!r}, InstrumentOptions(seed=1), settings=settings)
        instrument.column.unblank()
        print("unblanked", flush=True)
        os._exit(0)  # killed: no wind-down, no session.close
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.stdout.strip() == "unblanked", done.stderr
    column = _column(factory)
    waited = _wait_for(lambda: column.blanked, 2.0)
    assert waited < 0.5 + 0.3
    assert server.stats()["sessions_expired"] == 1


def test_an_idle_client_keeps_its_session_with_heartbeats(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    try:
        instrument.column.unblank()
        time.sleep(3 * fast.dead_after_s)  # the engine busy on its own, no calls
        assert not instrument.column.is_blanked()
        assert server.stats()["sessions_expired"] == 0
    finally:
        instrument.close()


def test_a_client_that_comes_back_after_its_session_expired_is_told_why(
    serve, factory, raw_connect
):
    server = serve(factory)
    client = raw_connect(server.endpoint)
    session = client.open(dead_after_s=0.1)
    time.sleep(0.3)  # frozen (suspended, swapping): no heartbeat
    reply = client.call("column.unblank", "u-1", session)
    assert reply.error is not None and reply.error.code.value == "no_session"
    assert "after its client fell silent" in reply.error.message
    assert factory.script.calls["column.unblank"] == 0


def test_a_new_session_starts_with_its_beam_blanked(serve, factory, raw_connect):
    def left_on(options):
        instrument = factory(options)
        instrument.column.blanked = False  # as the last user of the column left it
        return instrument

    server = serve(left_on)
    client = raw_connect(server.endpoint)
    session = client.open()
    assert client.call("column.is_blanked", "b-1", session).result is True


def test_an_evicted_session_is_blanked(serve, factory, raw_connect):
    server = serve(factory, max_sessions=1)
    first, second = raw_connect(server.endpoint), raw_connect(server.endpoint)
    session = first.open("open-first")
    assert first.call("column.unblank", "u-1", session).ok
    second.open("open-second")
    assert _column(factory, 0).blanked
    assert first.call("column.unblank", "u-2", session).error.code.value == "no_session"
    assert server.stats()["beams_blanked"] == 1


def test_a_session_forgotten_in_a_restart_is_blanked(serve, factory, raw_connect):
    plan = FaultPlan(restart_after_calls=3, restart_downtime_ms=50, forget_on_restart=True)
    server = serve(factory, faults=plan)
    client = raw_connect(server.endpoint)
    session = client.open()
    assert client.call("column.unblank", "u-1", session).ok
    client.request("clock.now_s", "t-1", session)  # the third reply: lost in the restart
    _wait_for(lambda: _column(factory).blanked, 2.0)
    assert server.stats()["restarts"] == 1 and server.stats()["beams_blanked"] == 1


def test_closing_a_session_blanks_its_beam(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    instrument.column.unblank()
    instrument.close()
    assert _column(factory).blanked and server.stats()["beams_blanked"] == 1


def test_stopping_the_server_blanks_every_open_session(serve, factory, raw_connect):
    server = serve(factory)
    for n in range(3):
        client = raw_connect(server.endpoint)
        session = client.open(f"open-{n}")
        assert client.call("column.unblank", f"u-{n}", session).ok
    server.stop()
    assert all(instrument.column.blanked for _, instrument in factory.opened)
    assert server.stats()["beams_blanked"] == 3


def test_stopping_during_a_mill_blanks_after_it_on_the_instrument_thread(
    serve, factory, raw_connect
):
    server = serve(factory)
    client = raw_connect(server.endpoint)
    session = client.open()
    assert client.call("column.unblank", "u-1", session).ok
    factory.script.mill_wall_s = 0.4
    client.request("column.mill", "m-1", session, pattern=PATTERN)
    client.request("column.unblank", "u-2", session)  # queued behind the mill: dropped
    _wait_for(lambda: factory.script.calls["column.mill"] == 1, 1.0)
    server.stop()
    names = [name for name, _ in factory.script.log]
    assert names[-1] == "column.blank" and "column.mill done" in names[-3:], names
    assert factory.script.log[-1][1] == WORKER
    assert factory.script.calls["column.unblank"] == 1 and _column(factory).blanked


def test_a_call_queued_for_a_session_that_expires_never_runs(serve, factory, raw_connect):
    server = serve(factory)
    busy, doomed = raw_connect(server.endpoint), raw_connect(server.endpoint)
    busy_session = busy.open("open-busy")
    doomed_session = doomed.open("open-doomed", dead_after_s=0.1)
    assert busy.call("column.unblank", "u-0", busy_session).ok
    factory.script.mill_wall_s = 0.6
    busy.request("column.mill", "m-1", busy_session, pattern=PATTERN)
    _wait_for(lambda: factory.script.calls["column.mill"] == 1, 1.0)
    doomed.request("column.unblank", "u-1", doomed_session)  # waits behind the mill ...
    doomed.close()  # ... and its client dies meanwhile
    assert busy.reply(timeout_s=3.0).ok
    _wait_for(lambda: server.stats()["beams_blanked"] == 1, 1.0)
    assert factory.script.calls["column.unblank"] == 1, "the dead client's unblank ran"
    assert _column(factory, 1).blanked


def test_a_stop_that_outwaits_a_stuck_call_blanks_from_its_own_thread(serve, factory, raw_connect):
    server = serve(factory)
    client = raw_connect(server.endpoint)
    session = client.open()
    assert client.call("column.unblank", "u-1", session).ok
    factory.script.mill_wall_s = 1.5
    client.request("column.mill", "m-1", session, pattern=PATTERN)
    _wait_for(lambda: factory.script.calls["column.mill"] == 1, 1.0)
    started = time.monotonic()
    server.stop(timeout_s=0.2)
    assert time.monotonic() - started < 1.0
    assert _column(factory).blanked
    assert factory.script.log[-1][1] != WORKER


def test_a_client_cannot_ask_for_an_endless_bound(serve, factory, raw_connect):
    server = serve(factory)
    session = raw_connect(server.endpoint).open(dead_after_s=1e9)
    assert server.dispatcher.sessions.get(session).dead_after_s == 60.0


def test_link_settings_that_would_starve_the_server_of_heartbeats_are_refused():
    with pytest.raises(LinkConfigError, match="heartbeat_s"):
        LinkSettings(heartbeat_s=2.0, dead_after_s=1.0)
