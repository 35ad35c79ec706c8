"""The UI server's own defences, read from its answers: every response carries the
Content-Security-Policy and the framing, referrer and sniffing headers, the page's scripts
carry the request's nonce, and the proxy's session calls keep to this site.

The UI runs alone here (its services' ports are free and closed): nothing of this needs them.
"""

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest

from devstack import stack as runner
from devstack.components.base import Context
from devstack.ports import free_port
from devstack.settings import REPO_ROOT, Endpoints, StackSettings
from devstack.testing import unique_name
from devstack.web_ui import WebUI

PATHS = ["/", "/login", "/ui-config", "/icon.svg", "/auth/api/v1/users/", "/chat/api/v1/chat/"]


@pytest.fixture(scope="module")
def lone_ui(stack: Endpoints) -> Iterator[str]:
    settings = StackSettings(
        state_dir=REPO_ROOT / ".devstack" / unique_name("ui_headers"),
        ui_port=free_port(),
        auth_port=free_port(),
        chat_port=free_port(),
        firestore_emulator_host=stack.firestore_emulator_host,
        firebase_auth_emulator_host=stack.firebase_auth_emulator_host,
    )
    ui = WebUI(Context(settings, progress=lambda _: None))
    try:
        runner.up([ui])
        yield ui.url
    finally:
        runner.down([ui])
        shutil.rmtree(settings.state_dir, ignore_errors=True)


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"{response.request.url} has no Content-Security-Policy"
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(lone_ui: str, path: str) -> None:
    response = httpx.get(f"{lone_ui}{path}", timeout=10)
    policy = _policy(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_scripts_run_only_with_this_requests_nonce(lone_ui: str) -> None:
    first, second = (httpx.get(f"{lone_ui}/login", timeout=10) for _ in range(2))
    nonces = []
    for page in (first, second):
        script_src = _policy(page)["script-src"]
        assert "'strict-dynamic'" in script_src
        assert "'unsafe-inline'" not in script_src
        assert "'unsafe-eval'" not in script_src
        (nonce,) = [source[7:-1] for source in script_src if source.startswith("'nonce-")]
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        assert scripts
        assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert len(nonces[0]) >= 22


def test_the_page_connects_only_to_itself_and_the_configured_emulators(
    lone_ui: str, stack: Endpoints
) -> None:
    policy = _policy(httpx.get(f"{lone_ui}/", timeout=10))
    assert policy["connect-src"] == [
        "'self'",
        f"http://{stack.firestore_emulator_host}",
        f"http://{stack.firebase_auth_emulator_host}",
    ]
    assert policy["default-src"] == ["'self'"]


def test_a_refresh_without_the_session_cookie_asks_nobody(lone_ui: str) -> None:
    """The auth service is not running: an answer at all shows the proxy answered alone."""
    response = httpx.post(f"{lone_ui}/auth/api/v1/sessions/refresh", json={}, timeout=10)
    assert response.status_code == 204
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("call", ["login", "sessions/refresh", "sessions/logout"])
def test_session_calls_from_another_sites_page_are_refused(lone_ui: str, call: str) -> None:
    response = httpx.post(
        f"{lone_ui}/auth/api/v1/{call}",
        json={},
        headers={"sec-fetch-site": "same-site", "cookie": "__Secure-chat_refresh=stolen"},
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "cross_site_request"
    assert "set-cookie" not in response.headers
