"""A tiny HTTP endpoint for probes and scraping: /health, /ready, /metrics.

Three fixed GET routes do not need a web framework; asyncio's stream server is enough and keeps
the stream services free of a web stack. Errors have the shape every service answers with,
`{"detail": ..., "code": ...}`.
"""

import asyncio
import json
from collections.abc import Callable
from typing import NamedTuple

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

ReadinessCheck = Callable[[], str | None]
"""Returns None when ready, else the name of what is not ready."""

_JSON = "application/json"
_LINE_TIMEOUT = 5.0
_END_OF_HEADERS = (b"\r\n", b"\n", b"")


class Answer(NamedTuple):
    status: str
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: str, document: dict[str, str], *headers: tuple[str, str]) -> Answer:
    # json.dumps escapes whatever a readiness check names; the body stays valid JSON.
    return Answer(status, _JSON, json.dumps(document, separators=(",", ":")).encode(), headers)


def _error(status: str, detail: str, code: str, *headers: tuple[str, str]) -> Answer:
    return _json(status, {"detail": detail, "code": code}, *headers)


class ProbeServer:
    """Serves `/health` (the process runs), `/ready` (`ready` names nothing failing) and
    `/metrics` (the registry's Prometheus text), one request per connection."""

    def __init__(self, registry: CollectorRegistry, ready: ReadinessCheck) -> None:
        self._registry = registry
        self._ready = ready
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on (useful after starting on port 0)."""
        if self._server is None:
            raise RuntimeError("the probe server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), _LINE_TIMEOUT)
            while await asyncio.wait_for(reader.readline(), _LINE_TIMEOUT) not in _END_OF_HEADERS:
                pass  # headers are not needed, but must be read before answering
            writer.write(_encode(self.answer(request_line.decode("latin-1"))))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a slow or vanished client; nothing to answer
        finally:
            writer.close()

    def answer(self, request_line: str) -> Answer:
        """The answer to one request line such as `GET /ready HTTP/1.1`."""
        parts = request_line.split()
        if len(parts) < 2 or parts[0] != "GET":
            return _error(
                "405 Method Not Allowed", "GET only", "method_not_allowed", ("Allow", "GET")
            )
        path = parts[1].split("?")[0].rstrip("/")
        if path == "/health":
            return _json("200 OK", {"status": "ok"})
        if path == "/ready":
            return self._readiness()
        if path == "/metrics":
            return Answer("200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry))
        return _error("404 Not Found", "not found", "not_found")

    def _readiness(self) -> Answer:
        failing = self._ready()
        if failing is None:
            return _json("200 OK", {"status": "ready"})
        return _error("503 Service Unavailable", f"not ready: {failing}", "not_ready")


def _encode(answer: Answer) -> bytes:
    headers = [
        ("Content-Type", answer.content_type),
        ("Content-Length", str(len(answer.body))),
        ("Connection", "close"),
        *answer.headers,
    ]
    head = f"HTTP/1.1 {answer.status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + "\r\n").encode("latin-1") + answer.body


class Readiness:
    """A `ReadinessCheck` for a stage: not ready until each client it waits for has started,
    then not ready while any named check says its dependency is failing.

    The first name still missing (in the order given) is the one `/ready` reports.
    """

    def __init__(self, *waiting_for: str) -> None:
        self._waiting_for = list(waiting_for)
        self._failing: list[tuple[str, Callable[[], bool]]] = []

    def started(self, name: str) -> None:
        if name in self._waiting_for:
            self._waiting_for.remove(name)

    def fails_while(self, name: str, failing: Callable[[], bool]) -> None:
        """Once started, report `name` as not ready whenever `failing()` is true."""
        self._failing.append((name, failing))

    def __call__(self) -> str | None:
        if self._waiting_for:
            return self._waiting_for[0]
        return next((name for name, failing in self._failing if failing()), None)
