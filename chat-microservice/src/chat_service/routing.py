"""Routes that answer with and without a trailing slash, without 307 redirects."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class SlashOptionalRouter(APIRouter):
    """Registers every path twice: as written (documented) and with the slash toggled."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        twin = path[:-1] if path.endswith("/") else path + "/"
        if twin or self.prefix:
            super().add_api_route(twin, endpoint, **{**kwargs, "include_in_schema": False})
