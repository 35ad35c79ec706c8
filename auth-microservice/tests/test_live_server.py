"""Against `auth-service serve` in a subprocess: real sockets, real concurrency."""

import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

PASSWORD = "correct horse battery"
USERS = "/auth/api/v1/users/"


def sign_up(client: httpx.Client, username: str) -> int:
    body = {"username": username, "password": PASSWORD}
    return client.post(USERS, json=body).status_code


def bearer(base_url: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        assert sign_up(client, username) == 201
        form = {"username": username, "password": PASSWORD}
        token = client.post("/auth/api/v1/login/", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def run_together(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Runs the callables in threads released at the same instant."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Callable[[], Any]) -> Any:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def test_concurrent_sign_ups_of_one_name_yield_exactly_one_201(live_server: str) -> None:
    names = ["Zed", "zed", "ZED", "zEd", "Zed", "zed", "ZeD", "zED"]

    def attempt(name: str) -> Callable[[], int]:
        def call() -> int:
            with httpx.Client(base_url=live_server, timeout=30) as client:
                return sign_up(client, name)

        return call

    statuses = run_together([attempt(name) for name in names])
    assert sorted(statuses) == [201] + [409] * (len(names) - 1)
    headers = bearer(live_server, "observer")
    listed = httpx.get(f"{live_server}{USERS}", params={"q": "zed"}, headers=headers).json()
    assert len(listed) == 1


def test_keyset_paging_never_skips_or_repeats_while_users_are_added(live_server: str) -> None:
    headers = bearer(live_server, "reader")
    with httpx.Client(base_url=live_server, timeout=30) as client:
        for index in range(20):
            assert sign_up(client, f"early{index}") == 201
    writers_done = threading.Event()

    def writer(prefix: str) -> None:
        with httpx.Client(base_url=live_server, timeout=30) as client:
            for index in range(12):
                assert sign_up(client, f"{prefix}{index}") == 201

    def reader() -> list[int]:
        seen: list[int] = []
        cursor = 0
        with httpx.Client(base_url=live_server, timeout=30, headers=headers) as client:
            while True:
                finished = writers_done.is_set()
                page = client.get(USERS, params={"after_id": cursor, "limit": 3}).json()
                seen += [user["id"] for user in page]
                cursor = seen[-1] if seen else cursor
                if not page and finished:
                    return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        read = pool.submit(reader)
        writes = [pool.submit(writer, prefix) for prefix in ("wa", "wb", "wc")]
        for write in writes:
            write.result()
        writers_done.set()
        seen = read.result()

    with httpx.Client(base_url=live_server, timeout=30, headers=headers) as client:
        everyone = [user["id"] for user in client.get(USERS, params={"limit": 200}).json()]
    assert len(everyone) == 1 + 20 + 36
    assert len(seen) == len(set(seen)), "a user was returned twice"
    assert seen == sorted(seen)
    assert seen == everyone, "a user was skipped"


def sign_up_via(base_url: str, forwarded_for: str, name: str) -> int:
    body = {"username": name, "password": PASSWORD}
    headers = {"X-Forwarded-For": forwarded_for}
    return httpx.post(f"{base_url}{USERS}", json=body, headers=headers).status_code


def test_forwarded_for_from_a_trusted_proxy_is_the_client_address(
    start_server: Callable[..., Any],
) -> None:
    # The test connects from 127.0.0.1, here the proxy: each client it names has its own budget.
    server = start_server(AUTH_SIGNUPS_PER_ADDRESS="1", AUTH_TRUSTED_PROXIES="127.0.0.1")
    assert sign_up_via(server.base_url, "203.0.113.5", "first") == 201
    assert sign_up_via(server.base_url, "203.0.113.5", "second") == 429
    assert sign_up_via(server.base_url, "198.51.100.7", "third") == 201
    # Appended by the proxy to what the client sent: the proxy's own entry is what counts.
    assert sign_up_via(server.base_url, "198.51.100.99, 203.0.113.5", "fourth") == 429


def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    start_server: Callable[..., Any],
) -> None:
    # Only 10.9.9.9 may name clients, so the test, connecting from 127.0.0.1, is an ordinary
    # client: a forged header per attempt must not buy a fresh budget.
    server = start_server(AUTH_SIGNUPS_PER_ADDRESS="3", AUTH_TRUSTED_PROXIES="10.9.9.9")
    statuses = [
        sign_up_via(server.base_url, f"198.51.100.{index}", f"forger{index}") for index in range(6)
    ]
    assert statuses == [201] * 3 + [429] * 3


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_server_shuts_down_cleanly_on_a_signal(
    start_server: Callable[..., Any], signum: int
) -> None:
    server = start_server(capture_stderr=True, AUTH_LOG_LEVEL="INFO")
    assert httpx.get(f"{server.base_url}/auth/api/ready/").status_code == 200
    assert server.stop(signum) == 0
    assert server.process.stderr is not None
    log = server.process.stderr.read().decode()
    assert "auth_service_stopped" in log
    assert "Traceback" not in log
