"""The rate-limit store, opened from a service's settings, and its options: one immediate
retry after a dropped connection, none after a timeout, with the Retry of the client (sync or
asyncio) that will use it."""

from datetime import timedelta
from typing import Any

import limits.aio.storage
import limits.storage
import pytest
from pydantic_settings import SettingsConfigDict
from redis.asyncio.retry import Retry as AsyncRetry
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from http_kit import HttpServiceSettings
from http_kit.limits_store import (
    open_async_limits_storage,
    open_limits_storage,
    redis_connection_options,
    redis_limits_options,
)


def options(*, asynchronous: bool) -> dict[str, Any]:
    return redis_limits_options(
        key_prefix="test-limits", timeout=timedelta(milliseconds=250), asynchronous=asynchronous
    )


@pytest.mark.parametrize(("error", "attempts"), [(RedisConnectionError, 2), (RedisTimeoutError, 1)])
def test_a_dropped_connection_is_retried_once_and_a_timeout_never(
    error: type[Exception], attempts: int
) -> None:
    calls = []

    def command() -> None:
        calls.append(1)
        raise error("redis went away")

    with pytest.raises(error):
        options(asynchronous=False)["retry"].call_with_retry(command, lambda _: None)
    assert len(calls) == attempts


@pytest.mark.parametrize(("error", "attempts"), [(RedisConnectionError, 2), (RedisTimeoutError, 1)])
async def test_the_asyncio_retry_behaves_the_same(error: type[Exception], attempts: int) -> None:
    calls = []

    async def command() -> None:
        calls.append(1)
        raise error("redis went away")

    async def on_failure(_: Exception) -> None:
        return None

    with pytest.raises(error):
        await options(asynchronous=True)["retry"].call_with_retry(command, on_failure)
    assert len(calls) == attempts


def test_the_timeout_bounds_connecting_and_every_reply() -> None:
    sync, asynchronous = options(asynchronous=False), options(asynchronous=True)
    for chosen in (sync, asynchronous):
        assert chosen["key_prefix"] == "test-limits"
        assert (chosen["socket_timeout"], chosen["socket_connect_timeout"]) == (0.25, 0.25)
    # limits' asynchronous Redis storage defaults to coredis, which takes no redis-py Retry.
    assert asynchronous["implementation"] == "redispy"
    assert "implementation" not in sync  # the synchronous storage is redis-py only


def test_a_client_of_its_own_gets_the_same_timeouts_and_retry_without_the_storage_options() -> None:
    connection = redis_connection_options(timeout=timedelta(milliseconds=250), asynchronous=True)
    # What `Redis.from_url` accepts: `key_prefix` and `implementation` are `limits`' own.
    assert set(connection) == {"socket_timeout", "socket_connect_timeout", "retry"}
    assert (connection["socket_timeout"], connection["socket_connect_timeout"]) == (0.25, 0.25)
    assert isinstance(connection["retry"], AsyncRetry)


class _Settings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")
    rate_limit_prefix: str = "example-limits"


def test_a_service_opens_its_counters_synchronously_or_with_asyncio() -> None:
    settings = _Settings(rate_limit_storage="memory://")
    assert isinstance(open_limits_storage(settings), limits.storage.MemoryStorage)
    assert isinstance(open_async_limits_storage(settings), limits.aio.storage.MemoryStorage)
    # Written either way, the URI names one store.
    spelled_async = _Settings(rate_limit_storage="async+memory://")
    assert isinstance(open_limits_storage(spelled_async), limits.storage.MemoryStorage)


def test_a_redis_store_is_opened_with_asyncio_through_redis_py() -> None:
    settings = _Settings(rate_limit_storage="redis://127.0.0.1:1/0")  # not connected yet
    assert isinstance(open_async_limits_storage(settings), limits.aio.storage.RedisStorage)
    assert isinstance(open_limits_storage(settings), limits.storage.RedisStorage)
