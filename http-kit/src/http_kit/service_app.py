"""The FastAPI app every HTTP service starts from: documents under its prefix, the shared
error shape, the request-size caps, request metrics, and no slash redirects."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from prometheus_client import Histogram

from http_kit.errors import install_error_handlers
from http_kit.metrics import record_request_durations
from http_kit.request_size import limit_request_bodies, limit_request_headers


def create_service_app(
    *,
    prefix: str,
    title: str,
    version: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    max_body_bytes: int,
    max_header_bytes: int,
    request_durations: Histogram,
    description: str = "",
) -> FastAPI:
    """An app serving its docs at `<prefix>/docs` and `<prefix>/openapi.json`. Middleware
    added later (CORS) wraps these, so it sees every answer, refusals included."""
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        docs_url=f"{prefix}/docs",
        openapi_url=f"{prefix}/openapi.json",
        redoc_url=None,
        # Routers register both spellings of a path instead (`SlashOptionalRouter`).
        redirect_slashes=False,
    )
    install_error_handlers(app)
    # Each added middleware wraps the ones before it: the header cap is checked first, and
    # the metrics time the caps' refusals too.
    limit_request_bodies(app, max_body_bytes)
    limit_request_headers(app, max_header_bytes)
    record_request_durations(app, request_durations)
    _serve_docs_with_trailing_slash(app, prefix)
    return app


def _serve_docs_with_trailing_slash(app: FastAPI, prefix: str) -> None:
    """`<prefix>/docs/` answers like `<prefix>/docs`, as every other path does."""

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{prefix}/openapi.json", title=app.title)

    app.add_api_route(f"{prefix}/docs/", docs, include_in_schema=False)
