"""Seeded fault injection for the instrument server: the failures CI must survive.

Why seeded: a test that drops 10 % of replies must drop the same ones on every run, so a
failure reproduces. The plan counts call replies (not heartbeats) and decides for each one
whether to delay it, drop it, cut the connection, or restart the server's socket.

A *restart* closes the listening socket, stays away for ``restart_downtime_ms`` and binds
again: connections and in-flight replies are lost, as in a server process restart. By default
the sessions and the reply cache survive it, which is what a vendor server must persist to make
a restart invisible (docs/protocol.md); ``forget_on_restart`` models one that persists nothing.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from fibsims.instrument.transport.errors import LinkConfigError


@dataclass(frozen=True)
class FaultPlan:
    drop_replies: float = 0.0
    delay_ms: float = 0.0
    disconnect_every: int = 0
    restart_after_calls: int = 0
    restart_downtime_ms: float = 300.0
    forget_on_restart: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop_replies < 1.0:
            raise LinkConfigError(
                f"--drop-replies {self.drop_replies} must be a fraction in [0, 1)"
            )
        for name in ("delay_ms", "restart_downtime_ms", "disconnect_every", "restart_after_calls"):
            if getattr(self, name) < 0:
                raise LinkConfigError(f"{name} must not be negative")


@dataclass(frozen=True)
class Fault:
    """What happens to one call reply."""

    delay_s: float = 0.0
    drop: bool = False
    disconnect: bool = False
    restart: bool = False


class FaultInjector:
    """Draws the fate of each call reply from the plan, deterministically."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed)
        self._replies = itertools.count(1)

    def next_reply(self) -> Fault:
        plan, n = self.plan, next(self._replies)
        return Fault(
            delay_s=plan.delay_ms / 1000.0,
            drop=plan.drop_replies > 0 and self._rng.random() < plan.drop_replies,
            disconnect=plan.disconnect_every > 0 and n % plan.disconnect_every == 0,
            restart=n == plan.restart_after_calls,  # once (0 never comes)
        )
