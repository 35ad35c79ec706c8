"""How the HTTP services reach the Redis that holds their rate-limit counters, through
`limits` or through a redis-py client of their own (for other short-lived state kept there).

Not exported from `http_kit`: it imports the Redis client, which the package's other users
(auth-validator, the routers) have no use for; only the services' modules that use Redis need it.
"""

from datetime import timedelta
from typing import Any

from limits import aio, storage
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from http_kit.settings import HttpServiceSettings


def redis_connection_options(*, timeout: timedelta, asynchronous: bool) -> dict[str, Any]:
    """The options of a redis-py client of that Redis (`Redis.from_url(uri, **options)`):
    `timeout` for connecting and for every reply.

    One immediate retry on a dropped connection (a restarted Redis leaves every pooled one
    dead), none on a timeout: redis-py's default of retries with back-off would hold a
    request for seconds before the service could refuse it or count elsewhere.
    `asynchronous` picks the `Retry` of the asyncio client rather than the synchronous one."""
    seconds = timeout.total_seconds()
    retry = (AsyncRetry if asynchronous else Retry)(
        NoBackoff(), 1, supported_errors=(RedisConnectionError,)
    )
    return {"socket_timeout": seconds, "socket_connect_timeout": seconds, "retry": retry}


def redis_limits_options(
    *, key_prefix: str, timeout: timedelta, asynchronous: bool
) -> dict[str, Any]:
    """The options of a `limits` Redis storage (`storage_from_string(uri, **options)`): keys
    under `key_prefix`, and the connection options above.

    `asynchronous` is for an `async+redis://` storage, which must then use redis-py (the
    client the asyncio `Retry` belongs to) rather than its default, coredis."""
    options = redis_connection_options(timeout=timeout, asynchronous=asynchronous)
    options["key_prefix"] = key_prefix
    if asynchronous:
        options["implementation"] = "redispy"
    return options


def open_limits_storage(settings: HttpServiceSettings) -> storage.Storage:
    """The synchronous `limits` storage of a service's rate-limit counters (for endpoints that
    run in worker threads)."""
    opened = _open(settings, asynchronous=False)
    if not isinstance(opened, storage.Storage):
        raise ValueError(f"{_variable(settings)} must name a synchronous storage")
    return opened


def open_async_limits_storage(settings: HttpServiceSettings) -> aio.storage.Storage:
    """The asyncio `limits` storage of a service's rate-limit counters (the `async+` variant
    of the configured one)."""
    opened = _open(settings, asynchronous=True)
    if not isinstance(opened, aio.storage.Storage):
        raise ValueError(f"{_variable(settings)} must name a storage with an async+ variant")
    return opened


def _open(settings: HttpServiceSettings, *, asynchronous: bool) -> object:
    uri = settings.rate_limit_storage.removeprefix("async+")
    options: dict[str, Any] = {}
    if uri.startswith("redis"):
        options = redis_limits_options(
            key_prefix=settings.rate_limit_prefix,
            timeout=settings.rate_limit_timeout,
            asynchronous=asynchronous,
        )
    name = f"async+{uri}" if asynchronous else uri
    return storage.storage_from_string(name, wrap_exceptions=True, **options)


def _variable(settings: HttpServiceSettings) -> str:
    return f"{settings.model_config.get('env_prefix', '')}RATE_LIMIT_STORAGE"
