"""A router whose paths answer with and without the trailing slash, with no 307 redirect."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class SlashOptionalRouter(APIRouter):
    """Registers every route twice: as written (shown in OpenAPI) and with the trailing slash
    added or removed (hidden). Redirecting instead would turn a POST into a second request
    that some clients drop or downgrade to GET."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        twin = path[:-1] if path.endswith("/") else f"{path}/"
        if twin and twin != path:
            super().add_api_route(twin, endpoint, **{**kwargs, "include_in_schema": False})
