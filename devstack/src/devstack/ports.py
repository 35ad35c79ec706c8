"""Ports for servers started next to the stack: tests' own servers and the emulators' side
channels."""

import random
import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    It is drawn below the kernel's ephemeral range, never from it: the kernel hands ports of
    that range to every outgoing connection and to servers that ask for any port (the
    emulators do for their side channels), so a port from there may be taken between this
    call and the bind of the server it is meant for.
    """
    low = _EPHEMERAL_LOW
    for _ in range(200):
        port = random.randrange(_LOWEST_PORT, low)  # noqa: S311 (spreading, not secrecy)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {_LOWEST_PORT} and {low}")


def _ephemeral_low(default: int = 32768) -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


# Above every port the stack uses by default, below every port the kernel picks by itself.
_LOWEST_PORT = 10_000
_EPHEMERAL_LOW = max(_ephemeral_low(), _LOWEST_PORT + 1_000)
