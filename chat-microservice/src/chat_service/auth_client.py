"""The chat service's client of the auth service: who exists, behind a short-lived cache."""

import asyncio

import httpx
import structlog
from cachetools import TTLCache
from pydantic import BaseModel

from chat_service.settings import ChatSettings

log = structlog.get_logger(__name__)


class User(BaseModel):
    id: str
    username: str


class _AuthUser(BaseModel):
    """The auth service's user shape: integer ids."""

    id: int
    username: str


class AuthServiceUnavailable(Exception):
    """The auth service could not answer."""


class AuthClient:
    """Looks users up in the auth service with the caller's token.

    Found users are cached for `user_cache_ttl`: user names never change and accounts are
    not deleted, so a short cache only delays nothing that matters.
    """

    def __init__(self, client: httpx.AsyncClient, settings: ChatSettings) -> None:
        self._client = client
        self._cache: TTLCache[str, User] = TTLCache(
            maxsize=settings.user_cache_size, ttl=settings.user_cache_ttl.total_seconds()
        )

    async def find(self, user_id: str, token: str) -> User | None:
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        user = await self._fetch(user_id, token)
        if user is not None:
            self._cache[user_id] = user
        return user

    async def find_many(self, user_ids: list[str], token: str) -> list[User | None]:
        return list(await asyncio.gather(*(self.find(uid, token) for uid in user_ids)))

    async def _fetch(self, user_id: str, token: str) -> User | None:
        # Ids are decimal integers in the auth service; anything else cannot exist, and
        # must not be spliced into a URL path.
        if not user_id.isdigit() or not user_id.isascii():
            return None
        try:
            response = await self._client.get(
                f"/auth/api/v1/users/{user_id}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            log.warning("auth_service_unreachable", error=str(error))
            raise AuthServiceUnavailable(str(error)) from error
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            log.warning("auth_service_error", status=response.status_code)
            raise AuthServiceUnavailable(f"auth service answered {response.status_code}")
        found = _AuthUser.model_validate(response.json())
        return User(id=str(found.id), username=found.username)
