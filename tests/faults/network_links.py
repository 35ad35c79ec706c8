"""A Toxiproxy between each service and each dependency it reaches over the network, so that a
fault test can slow, blackhole or reset one link while every other link works.

The proxy is the real thing (Toxiproxy 2.5.0, built from its Go module into the tools cache by
`make install`); each link is a proxy of its own, and each service is pointed at its proxies
by its own prefixed variables (`CHAT_CASSANDRA_HOSTS`, ...). Kafka tells a client which address
to use after the bootstrap, so each service reaching Kafka has a listener of its own on the
broker that names that service's proxy (`kafka_client_listeners` in devstack's settings).
"""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack.settings import REPO_ROOT
from devstack.testing import free_port

BUILD_GO_TOOL = REPO_ROOT / "deploy" / "checks" / "build-go-tool.sh"

KAFKA_CLIENTS = {"chat": "CHAT", "aggregator": "AGGREGATOR", "consumer": "AGGREGATED_CONSUMER"}
"""The services with a Kafka listener of their own (and a proxy in front of it), with the
prefix of their variables."""


@dataclass(frozen=True)
class Link:
    """One service's connection to one dependency, through a proxy listening on `listen`."""

    service: str
    dependency: str
    listen: int
    upstream: int
    variable: str
    """The service's variable that points it at the proxy."""
    value: str
    """That variable's value; `{address}` stands for the proxy's host:port."""

    @property
    def name(self) -> str:
        return f"{self.service}-{self.dependency}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.listen}"

    @property
    def environment(self) -> dict[str, str]:
        return {self.variable: self.value.format(address=self.address)}


@dataclass(frozen=True)
class NetworkFault:
    """A Toxiproxy toxic, applied to both directions of a link unless `streams` says less."""

    name: str
    toxic: str
    attributes: dict[str, int]
    streams: tuple[str, ...] = ("upstream", "downstream")


LATENCY = NetworkFault("latency 500 ms", "latency", {"latency": 500, "jitter": 0}, ("downstream",))
"""Every answer arrives half a second late."""
BLACKHOLE = NetworkFault("blackhole", "timeout", {"timeout": 0})
"""Connections are accepted (also new ones) and nothing gets through either way; what was
sent meanwhile is dropped, so a request in flight never gets its answer, even afterwards."""
RESETS = NetworkFault("connection resets", "reset_peer", {"timeout": 0}, ("upstream",))
"""Every connection is reset (TCP RST) as soon as the service sends on it."""
NETWORK_FAULTS = (LATENCY, BLACKHOLE, RESETS)


@dataclass
class Toxiproxy:
    """A running toxiproxy-server and its API."""

    process: subprocess.Popen[bytes]
    api: str
    links: dict[str, Link] = field(default_factory=dict)

    def add(self, link: Link) -> None:
        proxy = {
            "name": link.name, "listen": link.address,
            "upstream": f"127.0.0.1:{link.upstream}", "enabled": True,
        }  # fmt: skip
        response = httpx.post(f"{self.api}/proxies", json=proxy, timeout=5)
        assert response.status_code == 201, response.text
        self.links[link.name] = link

    @property
    def environment(self) -> dict[str, str]:
        """Every service's variables that send its connections through the proxies."""
        return {name: value for link in self.links.values() for name, value in
                link.environment.items()}  # fmt: skip

    @contextmanager
    def broken(self, link: str, fault: NetworkFault) -> Iterator[None]:
        """`fault` on `link` for the duration of the block."""
        names = [f"{fault.toxic}-{stream}" for stream in fault.streams]
        for name, stream in zip(names, fault.streams, strict=True):
            toxic: dict[str, Any] = {
                "name": name, "type": fault.toxic, "stream": stream, "toxicity": 1.0,
                "attributes": fault.attributes,
            }  # fmt: skip
            response = httpx.post(f"{self.api}/proxies/{link}/toxics", json=toxic, timeout=5)
            assert response.status_code == 200, response.text
        try:
            yield
        finally:
            for name in names:
                httpx.delete(f"{self.api}/proxies/{link}/toxics/{name}", timeout=5)

    def reset(self) -> None:
        """Every proxy enabled and without toxics, whatever a failed test left."""
        httpx.post(f"{self.api}/reset", timeout=5).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def toxiproxy_server() -> Path:
    """The cached toxiproxy-server binary (built first when missing)."""
    built = subprocess.run(
        [str(BUILD_GO_TOOL), "toxiproxy-server"], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, f"building toxiproxy-server failed:\n{built.stderr[-2000:]}"
    return Path(built.stdout.strip().splitlines()[-1])


def start_toxiproxy(log: Path) -> Toxiproxy:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(toxiproxy_server()), "-host", "127.0.0.1", "-port", str(port)],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    proxy = Toxiproxy(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{proxy.api}/version", timeout=1).raise_for_status()
            return proxy
        except httpx.TransportError:
            assert process.poll() is None, f"toxiproxy-server exited; see {log}"
            assert time.monotonic() < deadline, f"toxiproxy-server not answering; see {log}"
            time.sleep(0.1)


def kafka_client_listeners() -> dict[str, tuple[int, int]]:
    """A broker listener per Kafka client service: (its port, the port of its proxy)."""
    return {service: (free_port(), free_port()) for service in KAFKA_CLIENTS}


def service_links(
    ports: dict[str, int], kafka_listeners: dict[str, tuple[int, int]], database: str
) -> list[Link]:
    """The seven links: `ports` are the dependencies' own (postgres, redis, cassandra,
    firestore), `database` the auth service's database name."""
    kafka = [
        Link(service, "kafka", kafka_listeners[service][1], kafka_listeners[service][0],
             f"{prefix}_KAFKA_BOOTSTRAP_SERVERS", "{address}")
        for service, prefix in KAFKA_CLIENTS.items()
    ]  # fmt: skip
    return [
        Link("chat", "cassandra", free_port(), ports["cassandra"], "CHAT_CASSANDRA_HOSTS",
             "{address}"),
        Link("chat", "redis", free_port(), ports["redis"], "CHAT_RATE_LIMIT_STORAGE",
             "redis://{address}/0"),
        Link("auth", "postgres", free_port(), ports["postgres"], "AUTH_DATABASE_URL",
             "postgresql+psycopg2://postgres@{address}/" + database),
        Link("consumer", "firestore", free_port(), ports["firestore"],
             "AGGREGATED_CONSUMER_FIRESTORE_EMULATOR_HOST", "{address}"),
        *kafka,
    ]  # fmt: skip
