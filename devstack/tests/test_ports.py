import socket
from pathlib import Path

import pytest

from devstack import ports
from devstack.ports import free_port


def test_free_ports_lie_below_the_range_the_kernel_picks_from() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert all(10_000 <= port < low for port in ports), ports
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports[0]))  # and each is really free


def test_a_port_in_use_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        draws = iter([busy, busy, *range(23_456, 23_556)])
        monkeypatch.setattr(ports.random, "randrange", lambda *_: next(draws))
        assert 23_456 <= free_port() < 23_556
