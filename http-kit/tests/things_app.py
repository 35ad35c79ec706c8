"""The app of a small service, "things", as `create_service_app` builds it, for the tests of
what the kit adds to an app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Histogram

from http_kit import create_service_app
from http_kit.metrics import REQUEST_LABELS

PREFIX = "/things/api"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def things_app() -> FastAPI:
    """A service app with a 64-byte body cap and a 4 KiB header cap, and no routes yet."""
    durations = Histogram("d", "d", REQUEST_LABELS, registry=CollectorRegistry())
    return create_service_app(
        prefix=PREFIX,
        title="Things",
        version="1.0",
        lifespan=lifespan,
        max_body_bytes=64,
        max_header_bytes=4096,
        request_durations=durations,
    )
