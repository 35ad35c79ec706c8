"""Running a service under uvicorn: its workers, trusted proxies and a clean exit on signals."""

import signal
from types import FrameType

import structlog
import uvicorn

log = structlog.get_logger(__name__)


def serve(
    app_factory: str,
    *,
    host: str,
    port: int,
    workers: int,
    trusted_proxies: str,
    proxies_setting: str,
    access_log: bool = False,
) -> None:
    """Serves the app that `app_factory` ("module:function") builds, in each of `workers`
    processes, until SIGTERM or SIGINT; then returns once requests are drained and the
    lifespan has closed its clients.

    `X-Forwarded-For` is believed only from `trusted_proxies` (the comma-joined list of
    `service_settings.TrustedProxies`); `proxies_setting` names the variable in the warning
    logged when it trusts every peer."""
    _exit_cleanly_after_shutdown()
    if trusted_proxies == "*":
        # Any client may then choose the address it is counted under.
        log.warning("every_peer_trusted_as_proxy", setting=proxies_setting)
    uvicorn.run(
        app_factory,
        factory=True,  # each worker is a fresh interpreter and builds its own app and clients
        host=host,
        port=port,
        workers=workers,
        forwarded_allow_ips=trusted_proxies,
        proxy_headers=True,
        log_config=None,  # the service's structlog configuration stays in charge
        access_log=access_log,
    )


def _exit_cleanly_after_shutdown() -> None:
    # uvicorn handles SIGINT/SIGTERM itself: it stops accepting, drains, runs the lifespan
    # exit, and then re-raises the signal to the handler installed before it. The default
    # handler would make a finished shutdown look like death by signal; a no-op one lets the
    # process exit with status 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _after_shutdown)


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    """Receives the signal uvicorn passes on once it has shut down: nothing left to do."""
