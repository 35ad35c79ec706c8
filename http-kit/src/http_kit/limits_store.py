"""How the HTTP services reach the Redis that holds their rate-limit counters.

Not exported from `http_kit`: it imports the Redis client, which the package's other users
(auth-validator, the routers) have no use for; only the services' rate-limit modules need it.
"""

from datetime import timedelta
from typing import Any

from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry


def redis_limits_options(
    *, key_prefix: str, timeout: timedelta, asynchronous: bool
) -> dict[str, Any]:
    """The options of a `limits` Redis storage (`storage_from_string(uri, **options)`): keys
    under `key_prefix`, and `timeout` for connecting and for every reply.

    One immediate retry on a dropped connection (a restarted Redis leaves every pooled one
    dead), none on a timeout: redis-py's default of retries with back-off would hold a
    request for seconds before the service could refuse it or count elsewhere.
    `asynchronous` is for an `async+redis://` storage, which must then use redis-py (the
    client this asyncio `Retry` belongs to) rather than its default, coredis."""
    seconds = timeout.total_seconds()
    retry = (AsyncRetry if asynchronous else Retry)(
        NoBackoff(), 1, supported_errors=(RedisConnectionError,)
    )
    options: dict[str, Any] = {
        "key_prefix": key_prefix,
        "socket_timeout": seconds,
        "socket_connect_timeout": seconds,
        "retry": retry,
    }
    if asynchronous:
        options["implementation"] = "redispy"
    return options
