"""What the lifespan builds, stored once on `app.state` and read back by dependencies.

A service keeps every long-lived object (clients, services, probes, metrics) in one typed
object of its own; `deps.py` turns its fields into `Annotated` dependencies. Endpoints never
read `app.state` themselves, so there is one place to look for how anything is wired.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import FastAPI, Request

R = TypeVar("R")


def install_resources(app: FastAPI, resources: object) -> None:
    """Makes `resources` what `resources_dependency` returns for this app's requests."""
    app.state.resources = resources


def resources_of(app: FastAPI, kind: type[R]) -> R:
    """The app's resources, checked to be a `kind` (for code outside a dependency)."""
    found = getattr(app.state, "resources", None)
    if not isinstance(found, kind):
        raise RuntimeError(f"no {kind.__name__} installed; is the lifespan running?")
    return found


def resources_dependency(kind: type[R]) -> Callable[[Request], Awaitable[R]]:
    """A dependency returning the app's resources, checked to be a `kind`."""

    # `async def`: FastAPI runs plain `def` dependencies in a worker thread, a hop that
    # costs more than this lookup on every request.
    async def resources(request: Request) -> R:
        return resources_of(request.app, kind)

    return resources
