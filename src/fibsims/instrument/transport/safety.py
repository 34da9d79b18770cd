"""Beam safety on the server: no session ends with its beam left on.

Why the server does it: the client blanks the beam when a run winds down, but a client that
crashed, was killed or lost its network cannot. So whenever a session ends without its client
(its client fell silent, it was evicted for a newer one, forgotten in a restart, or the server
is stopping) and also when its client closes it, the server blanks the beam, best effort and
logged, before it closes the instrument. Where this runs: on the instrument thread, so a
blank never races a call running on the same backend (see :mod:`worker`).
"""

from __future__ import annotations

import logging

from fibsims.instrument.transport.sessions import ServerStats, Session

log = logging.getLogger("fibsims.link.server")


def blank_and_close(session: Session, why: str, stats: ServerStats, level: int) -> None:
    """Blank ``session``'s beam, close its instrument and mark it closed (once)."""
    if session.closed:
        return
    session.closed = True
    try:
        session.instrument.column.blank()
    except Exception as error:  # best effort: log it and still close
        stats.bump("blank_failures")
        log.error(
            "%s: could NOT blank the beam of session %s (%s: %s); blank it at the instrument",
            why,
            session.id,
            type(error).__name__,
            error,
        )
    else:
        stats.bump("beams_blanked")
        log.log(level, "%s: blanked the beam of session %s and closed it", why, session.id)
    try:
        session.instrument.close()
    except Exception as error:
        log.error("closing the instrument of session %s failed: %s", session.id, error)
