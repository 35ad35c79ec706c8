"""Login and sign-up fail closed while the limit store (a private Redis) is down or stalled:
503 with Retry-After, nothing created; once it is back, the limits count there again."""

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from devstack.components.redis import redis_command
from devstack.testing import PrivateRedis

pytestmark = pytest.mark.slow

UNAVAILABLE = {
    "detail": "Rate limits cannot be checked right now; try again later.",
    "code": "rate_limits_unavailable",
}


def user_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM users")).scalar_one())
    finally:
        engine.dispose()


def assert_refused(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert response.headers["Retry-After"] == "5"


async def test_sign_ups_with_redis_down_are_503_and_create_nobody_until_it_is_back(
    make_api: Any, private_redis: PrivateRedis, database_url: str
) -> None:
    prefix = "auth-down"
    limits = {
        "rate_limit_storage": private_redis.url,
        "rate_limit_prefix": prefix,
        "signups_per_address": 3,
    }
    api, other_worker = await make_api(**limits), await make_api(**limits)
    private_redis.kill()
    refused = await asyncio.gather(*(api.sign_up(f"early{index}") for index in range(6)))
    for response in refused:
        assert_refused(response)
    assert user_count(database_url) == 0

    private_redis.start()  # empty: the limits start afresh, nothing else was kept there
    # 201, not 409: the refused attempts created none of these names.
    assert [(await api.sign_up(f"early{index}")).status_code for index in range(3)] == [201] * 3
    # Counted in Redis again, so another process of the service sees the spent budget.
    assert (await other_worker.sign_up("early3")).status_code == 429
    assert redis_command(private_redis.url, "KEYS", f"{prefix}*")


async def test_logins_with_redis_stalled_are_503_within_the_timeout(
    make_api: Any, private_redis: PrivateRedis
) -> None:
    api = await make_api(
        rate_limit_storage=private_redis.url, rate_limit_timeout=timedelta(seconds=0.25)
    )
    for name in ("ann", "ben", "cat", "dan"):
        assert (await api.sign_up(name)).status_code == 201
    private_redis.pause()
    started = time.monotonic()
    # The right password, or not: while the limits cannot be checked, nobody gets in.
    attempts = [api.log_in(name) for name in ("ann", "ben", "cat")] + [
        api.log_in("dan", "wrong-password")
    ]
    # Worker threads cannot be cancelled: should a request hang, Redis wakes up after 8 s and
    # the checks below fail, instead of the test hanging until pytest's timeout.
    watchdog = threading.Timer(8, private_redis.resume)
    watchdog.start()
    try:
        responses = await asyncio.gather(*attempts)
    finally:
        watchdog.cancel()
    elapsed = time.monotonic() - started
    for response in responses:
        assert_refused(response)
    # Each waits for at most a connect and a reply of 0.25 s, in parallel worker threads.
    assert elapsed < 3, f"logins took {elapsed:.1f} s against a stalled Redis"

    private_redis.resume()
    assert (await api.log_in("ann")).status_code == 200
    assert (await api.log_in("dan", "wrong-password")).status_code == 401


async def test_session_requests_with_redis_down_are_503_and_change_nothing(
    make_api: Any, private_redis: PrivateRedis
) -> None:
    api = await make_api(rate_limit_storage=private_redis.url)
    assert (await api.sign_up("sleeper")).status_code == 201
    grant = (await api.log_in("sleeper")).json()
    body = {"refresh_token": grant["refresh_token"]}
    private_redis.kill()
    for path in ("refresh", "logout"):
        assert_refused(await api.http.post(f"/auth/api/v1/sessions/{path}", json=body))
    private_redis.start()
    # Neither rotated nor revoked while the limits could not be checked.
    renewed = await api.http.post("/auth/api/v1/sessions/refresh", json=body)
    assert renewed.status_code == 200, renewed.text
