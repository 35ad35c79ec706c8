"""A router whose paths answer with and without the trailing slash, with no redirect."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute


class SlashTwinRoute(APIRoute):
    """The hidden spelling of a documented route: its path with the trailing slash toggled."""

    @property
    def documented_path(self) -> str:
        return toggle_trailing_slash(self.path)


class SlashOptionalRouter(APIRouter):
    """Registers every route twice: as written (shown in OpenAPI) and with the trailing slash
    added or removed (hidden). Redirecting instead would turn a POST into a second request
    that some clients drop or downgrade to GET."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        twin = toggle_trailing_slash(path)
        # `/` of a router without a prefix has no twin: the empty path is not a path. With a
        # prefix it has one: `/v1/chat/` and `/v1/chat`.
        if twin or self.prefix:
            hidden = {**kwargs, "include_in_schema": False, "route_class_override": SlashTwinRoute}
            super().add_api_route(twin, endpoint, **hidden)


def toggle_trailing_slash(path: str) -> str:
    return path[:-1] if path.endswith("/") else f"{path}/"
