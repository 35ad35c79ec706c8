"""A user's first minutes through the cluster's Services, reached by port-forwards: sign up two
users, open a chat, send, page the history directly and through the UI, see the burst in the
Firestore emulator; then two people chatting live in a real browser against the UI the cluster
serves."""

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from chat_page import ChatPage, chromium
from cluster_support import REPORT, PortForward
from playwright.sync_api import Browser, expect

from devstack.settings import REPO_ROOT
from devstack.testing import unique_name

UI = "http://127.0.0.1:3000"


def test_two_users_chat_through_the_clusters_services(forwards: dict[str, PortForward]) -> None:
    started = time.monotonic()
    smoke = subprocess.run(
        [sys.executable, "deploy/checks/compose_smoke.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    REPORT.add("smoke test through port-forwards", time.monotonic() - started)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "burst document(s) in Firestore hold both messages" in smoke.stdout


@pytest.fixture
def browser(forwards: dict[str, PortForward]) -> Iterator[Browser]:
    with chromium() as started:
        yield started


def test_two_people_chat_live_in_the_ui_the_cluster_serves(
    browser: Browser, forwards: dict[str, PortForward]
) -> None:
    started = time.monotonic()
    alice_name, bob_name = unique_name("alice"), unique_name("bob")
    alice, bob = ChatPage.open(browser, UI), ChatPage.open(browser, UI)
    alice.sign_up(alice_name, f"{alice_name}-password")
    bob.sign_up(bob_name, f"{bob_name}-password")
    alice.open_chat_with(bob_name)
    bob.open_chat_with(alice_name)
    for sender, receiver, body in [
        (alice, bob, "Hello from the cluster"),
        (bob, alice, "Hello back, through the same pods"),
    ]:
        sender.send(body)
        expect(sender.message(body)).to_have_attribute("data-status", "sent", timeout=10_000)
        expect(receiver.message(body)).to_have_attribute("data-status", "sent", timeout=30_000)
    alice.page.reload()
    alice.expect_signed_in(alice_name)
    expect(alice.chat_item(bob_name)).to_contain_text("Hello back, through the same pods")
    # A kubectl port-forward ends when one of its streams fails and is started again half a
    # second later (as Tilt's are): a request in between is refused, and the page retries it.
    # Anything else in the console is a failure.
    refused = "net::ERR_CONNECTION_REFUSED"
    errors = alice.console_errors + bob.console_errors
    assert [error for error in errors if refused not in error] == []
    restarts = sum(forward.restarts for forward in forwards.values())
    REPORT.add(
        "browser: two people chat live",
        f"{time.monotonic() - started:.1f} s; {len(errors)} requests refused, "
        f"{restarts} port-forward restarts so far",
    )
