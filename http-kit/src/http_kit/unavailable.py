"""503 for a dependency that is down: `{"detail", "code": "<name>_unavailable"}` with
`Retry-After`, whether an endpoint raises it or a driver's exception escapes to the app."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog
from fastapi import FastAPI, Request, Response

from http_kit.errors import ServiceUnavailable, render_error

log = structlog.get_logger(__name__)


class DependencyUnavailable(ServiceUnavailable):
    """A dependency failed; the client may retry after `Retry-After` seconds."""

    def __init__(self, dependency: str, retry_after_seconds: int, detail: str) -> None:
        super().__init__(
            detail,
            code=f"{dependency}_unavailable",
            headers={"Retry-After": str(max(1, retry_after_seconds))},
        )
        self.dependency = dependency


@dataclass(frozen=True)
class Dependency:
    """A system the service needs, named as its 503s and metrics name it."""

    name: str
    detail: str = ""  # default: "<name> is unavailable; try again later."

    def unavailable(self, retry_after_seconds: int) -> DependencyUnavailable:
        detail = self.detail or f"{self.name} is unavailable; try again later."
        return DependencyUnavailable(self.name, retry_after_seconds, detail)


def answer_unavailable(
    app: FastAPI,
    failures: Mapping[type[Exception], Dependency],
    *,
    retry_after_seconds: int,
    on_unavailable: Callable[[str], None] | None = None,
) -> None:
    """Answers each exception type in `failures` (a driver's, escaping a request) with its
    dependency's 503, and calls `on_unavailable(name)` first, e.g. to count it."""

    async def render(request: Request, exc: Exception) -> Response:
        dependency = _dependency_of(failures, exc)
        if on_unavailable is not None:
            on_unavailable(dependency.name)
        log.warning("dependency_unavailable", dependency=dependency.name, error=str(exc))
        return render_error(dependency.unavailable(retry_after_seconds))

    for error_type in failures:
        app.add_exception_handler(error_type, render)


def _dependency_of(failures: Mapping[type[Exception], Dependency], exc: Exception) -> Dependency:
    # Starlette picks the handler by the exception's class hierarchy; so do we.
    for error_type in type(exc).__mro__:
        if error_type in failures:
            return failures[error_type]
    raise LookupError(f"no dependency for {type(exc).__name__}")  # unreachable by construction
