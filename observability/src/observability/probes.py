"""A tiny HTTP endpoint for probes and scraping: /health, /ready, /metrics.

Three fixed GET routes do not need a web framework; asyncio's stream server is enough and keeps
the stream services (aggregator, consumer) free of a web stack.
"""

import asyncio
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

ReadinessCheck = Callable[[], str | None]
"""Returns None when ready, else the name of what is not ready."""


class ProbeServer:
    def __init__(self, registry: CollectorRegistry, ready: ReadinessCheck) -> None:
        self._registry = registry
        self._ready = ready
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (
                b"\r\n",
                b"\n",
                b"",
            ):
                pass  # headers are not needed
            status, content_type, body = self._respond(request_line.decode("latin-1"))
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def _respond(self, request_line: str) -> tuple[str, str, bytes]:
        parts = request_line.split()
        if len(parts) < 2 or parts[0] != "GET":
            return "405 Method Not Allowed", "application/json", b'{"detail":"GET only"}'
        path = parts[1].split("?")[0].rstrip("/")
        if path == "/health":
            return "200 OK", "application/json", b'{"status":"ok"}'
        if path == "/ready":
            failing = self._ready()
            if failing is None:
                return "200 OK", "application/json", b'{"status":"ready"}'
            return (
                "503 Service Unavailable",
                "application/json",
                (f'{{"detail":"not ready: {failing}","code":"not_ready"}}'.encode()),
            )
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        return "404 Not Found", "application/json", b'{"detail":"not found","code":"not_found"}'
