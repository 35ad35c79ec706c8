"""What the lifespan builds, stored once on `app.state` and read back by dependencies.

A service keeps every long-lived object (clients, services, probes, metrics) in one typed
object of its own, a frozen dataclass; `deps.py` turns its fields into `Annotated`
dependencies with `resource`. Endpoints never read `app.state` themselves, so there is one
place to look for how anything is wired.

Dependencies here are `async def` although they never await: FastAPI runs plain `def`
dependencies in a worker thread, a hop that costs more than the lookup on every request.
"""

import dataclasses
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

    async def resources(request: Request) -> R:
        return resources_of(request.app, kind)

    return resources


def resource(kind: type[object], field: str) -> Callable[[Request], Awaitable[object]]:
    """A dependency returning the `field` of the app's resources (a dataclass `kind`):
    `Annotated[UserService, Depends(resource(Resources, "users"))]`. The name is checked
    here, when `deps.py` is imported, so a misspelt one stops the service from starting
    instead of failing its requests."""
    if not dataclasses.is_dataclass(kind):
        raise TypeError(f"{kind.__name__} is not a dataclass")
    if field not in {declared.name for declared in dataclasses.fields(kind)}:
        raise AttributeError(f"{kind.__name__} has no field {field!r}")

    async def get(request: Request) -> object:
        return getattr(resources_of(request.app, kind), field)

    get.__name__ = f"get_{field}"  # what tracebacks and debuggers show
    return get
