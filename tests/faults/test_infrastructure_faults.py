"""A piece of infrastructure fails under a steady load of sends; the services answer 503 with
Retry-After (never 500, never a hang), recover without a restart of their own, and every
acknowledged message ends up in the history exactly once and in Firestore."""

import os
import signal
import time
from collections.abc import Callable
from functools import partial

import httpx
import pytest
from end_to_end_support import Pipeline
from fault_load import (
    REQUEST_TIMEOUT,
    LoadShape,
    kill_and_restart,
    ready_status,
    run_under_load,
    seconds_until,
)
from fault_report import FaultRow, check_and_record

from devstack import stack as runner
from devstack.components.redis import redis_command
from devstack.testing import unique_name


@pytest.mark.slow
async def test_cassandra_killed_and_restarted(
    pipeline: Pipeline, load_shape: LoadShape, fault_table: Callable[[FaultRow], None]
) -> None:
    crash = partial(kill_and_restart, pipeline, "cassandra")
    run = await run_under_load(pipeline, load_shape, crash)
    check_and_record("cassandra kill -9", pipeline, run, fault_table)
    assert run.record.statuses[503] > 0, "no send met the outage: nothing was tested"


@pytest.mark.slow
async def test_redis_killed_and_restarted(
    pipeline: Pipeline, load_shape: LoadShape, fault_table: Callable[[FaultRow], None]
) -> None:
    """Redis holds the `client_message_id` claims, in its append-only file: while it is down
    each chat process limits and claims in memory, and a retry after it is back still finds
    its message."""
    crash = partial(kill_and_restart, pipeline, "redis")
    run = await run_under_load(pipeline, load_shape, crash)
    check_and_record("redis kill -9", pipeline, run, fault_table)


@pytest.mark.slow
async def test_redis_emptied(
    pipeline: Pipeline, load_shape: LoadShape, fault_table: Callable[[FaultRow], None]
) -> None:
    """Every claim gone at once (a new server, a lost volume): retries find their messages
    through the claims' durable copy in Cassandra."""

    def wipe() -> float:
        assert redis_command(pipeline.settings.endpoints.redis_url, "FLUSHALL") is True
        return 0.0

    run = await run_under_load(pipeline, load_shape, wipe)
    check_and_record("redis emptied", pipeline, run, fault_table)


def refused_while_down(pipeline: Pipeline, path: str, **request: object) -> None:
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        response = client.post(f"{pipeline.auth_url}{path}", **request)  # type: ignore[arg-type]
    assert response.status_code == 503, response.text
    assert response.headers.get("Retry-After"), response.headers
    assert set(response.json()) == {"detail", "code"}, response.text


@pytest.mark.slow
async def test_postgres_stopped_and_started(
    pipeline: Pipeline, load_shape: LoadShape, fault_table: Callable[[FaultRow], None]
) -> None:
    postgres = pipeline.components["postgres"]
    newcomer = {"username": unique_name("late"), "password": "a-long-enough-password"}

    def outage() -> float:
        started = time.monotonic()
        runner.down([postgres])
        refused_while_down(pipeline, "/v1/users/", json=newcomer)
        refused_while_down(pipeline, "/v1/login/", data=newcomer)
        assert ready_status(pipeline, "auth") == 503
        runner.up([postgres])
        return time.monotonic() - started

    auth_pid = pipeline.pid("auth")
    run = await run_under_load(pipeline, load_shape, outage)
    check_and_record("postgres stop", pipeline, run, fault_table)
    # Chat checks tokens on its own: issued tokens kept working through the outage.
    assert run.record.retried == set()
    assert set(run.record.statuses) <= {201}
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        login = await client.post(f"{pipeline.auth_url}/v1/login/", data=newcomer)
        assert login.status_code == 401, "the sign-up refused during the outage was stored"
        created = await client.post(f"{pipeline.auth_url}/v1/users/", json=newcomer)
        assert created.status_code == 201, created.text
    assert pipeline.pid("auth") == auth_pid, "auth recovered only by restarting"


@pytest.mark.slow
async def test_firestore_emulator_stopped_and_started(
    pipeline: Pipeline, load_shape: LoadShape, fault_table: Callable[[FaultRow], None]
) -> None:
    """The emulator keeps documents in memory only, so it is stopped before the first send:
    every burst of the run is then written after its return, and the audit sees all of them."""
    firestore = pipeline.components["firestore"]
    stopped_at = time.monotonic()
    runner.down([firestore])

    def outage() -> float:
        seconds_until(lambda: ready_status(pipeline, "consumer") == 503, within=60)
        runner.up([firestore])
        return time.monotonic() - stopped_at

    run = await run_under_load(pipeline, load_shape, outage)
    check_and_record("firestore emulator stop", pipeline, run, fault_table)
    assert run.record.retried == set(), "sends do not depend on Firestore"


@pytest.mark.slow
async def test_auth_emulator_down_leaves_login_working(
    pipeline: Pipeline, load_shape: LoadShape, fault_table: Callable[[FaultRow], None]
) -> None:
    """Firebase custom tokens are minted and signed by the auth service itself, with no call
    to Firebase Auth: login keeps returning both tokens. The browser's Firebase sign-in with
    that token waits for Firebase Auth to come back (the UI shows live updates as down).

    The emulator is frozen (SIGSTOP), the harsher failure: connections are accepted by the
    kernel and never answered. (Its restart takes most of a minute, which this saves.)"""
    emulator = pipeline.pid("firebase-auth")
    assert emulator is not None
    user = {"username": unique_name("carol"), "password": "a-long-enough-password"}
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        created = await client.post(f"{pipeline.auth_url}/v1/users/", json=user)
        assert created.status_code == 201, created.text

    def outage() -> float:
        started = time.monotonic()
        os.killpg(emulator, signal.SIGSTOP)
        try:
            with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
                login = client.post(f"{pipeline.auth_url}/v1/login/", data=user)
            assert login.status_code == 200, login.text
            assert login.json()["access_token"]
            assert login.json()["firebase_token"]
            time.sleep(2)  # sends go on meanwhile
        finally:
            os.killpg(emulator, signal.SIGCONT)
        return time.monotonic() - started

    run = await run_under_load(pipeline, load_shape, outage)
    check_and_record("auth emulator frozen", pipeline, run, fault_table)
    assert set(run.record.statuses) <= {201}
