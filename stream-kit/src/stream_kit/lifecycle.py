"""Run a stream stage until SIGTERM or SIGINT, then close what it opened.

A stop signal does not cancel anything: it sets an event the stage's loop checks between
batches, so the batch in hand is finished (written and committed) before the process exits.
A second signal changes nothing; the supervisor's kill timeout is the backstop.
"""

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager

import structlog
from prometheus_client import CollectorRegistry

from stream_kit.probes import ProbeServer, ReadinessCheck
from stream_kit.settings import StreamSettings

log = structlog.get_logger(__name__)

Close = Callable[[], Awaitable[object]]
StageLoop = Callable[[asyncio.Event], Awaitable[None]]
"""The stage itself: starts its clients, loops until the event is set, finishes its batch."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[asyncio.Event]:
    """Sets `stop` on SIGTERM or SIGINT while the block runs (the running loop's handlers)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def close_all(closers: Sequence[Close]) -> None:
    """Calls every closer in order; one that fails is logged and the others still run."""
    for close in closers:
        try:
            await close()
        except Exception as error:  # a client that failed to start may fail to stop too
            log.warning("close_failed", error=repr(error))


async def run_until_signal(
    settings: StreamSettings,
    registry: CollectorRegistry,
    ready: ReadinessCheck,
    stage: StageLoop,
    *,
    closers: Sequence[Close] = (),
    stop: asyncio.Event | None = None,
) -> None:
    """Serves the probes, runs `stage` until a stop signal, then closes `closers` and the
    probe server, in that order (probes last, so /health answers until the very end).

    `stop` lets the stage share its own event with code that must notice a stop early (a
    write waiting out an outage). An exception from the stage still closes everything and
    then propagates: the process exits non-zero and its supervisor restarts it.
    """
    probe = ProbeServer(registry, ready)
    await probe.start(settings.http_host, settings.http_port)
    with stop_on_signals(stop or asyncio.Event()) as stopping:
        try:
            await stage(stopping)
        finally:
            await close_all([*closers, probe.stop])
