"""The typing indicator's Firestore cost, measured on the real UI in Chromium: one member types
into the composer of the running stack's UI, a key every 150 ms, while a listener of our own
counts the writes of its typing document (each one is also one read of the other member's
listener). Used by change_costs.py (`--ui`)."""

import os
import secrets
import shutil
import threading
import time
from typing import Any

import httpx
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from playwright.sync_api import Page, sync_playwright

from devstack.settings import StackSettings

KEY_INTERVAL_S = 0.15
_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _sign_up(page: Page, ui: str, username: str) -> None:
    page.goto(f"{ui}/login")
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("typing-bench-password")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=120_000)


def _open_chat(page: Page, other: str) -> None:
    page.get_by_label("Search people").fill(other)
    results = page.get_by_role("list", name="Search results")
    results.get_by_role("button", name=other, exact=True).click()
    page.get_by_role("region", name=f"Conversation with {other}").wait_for(timeout=120_000)


def measure_typing(ui: str, seconds: float) -> dict[str, Any]:
    stack = StackSettings()
    project = stack.firebase_project
    os.environ["FIRESTORE_EMULATOR_HOST"] = stack.endpoints.firestore_emulator_host
    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    writes: list[float] = []
    lock = threading.Lock()
    alice, bob = f"typer_{secrets.token_hex(4)}", f"reader_{secrets.token_hex(4)}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=shutil.which("chromium"), args=_FLAGS)
        try:
            typer = browser.new_context().new_page()
            reader = browser.new_context().new_page()
            _sign_up(reader, ui, bob)
            _sign_up(typer, ui, alice)
            _open_chat(typer, bob)
            typer_id = _user_id(alice)
            composer = typer.get_by_label("Message", exact=True)
            watch = client.collection_group("typing").on_snapshot(
                lambda _docs, changes, _at: _count(changes, typer_id, writes, lock)
            )
            started = time.monotonic()
            keys = 0
            while time.monotonic() - started < seconds:
                composer.press("a")
                keys += 1
                time.sleep(KEY_INTERVAL_S)
            elapsed = time.monotonic() - started
            time.sleep(1)
            watch.unsubscribe()
        finally:
            browser.close()
    client.close()
    return {"events": keys, "writes": len(writes), "reads": len(writes), "listeners": 1,
            "seconds": elapsed}  # fmt: skip


def _user_id(username: str) -> str:
    """The typer's id, from a login of its own through the auth service."""
    auth = f"http://127.0.0.1:{StackSettings().auth_port}/auth/api/v1"
    login = httpx.post(
        f"{auth}/login/", data={"username": username, "password": "typing-bench-password"}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return str(httpx.get(f"{auth}/users/me", headers=headers).json()["id"])


def _count(changes: Any, typer_id: str, writes: list[float], lock: threading.Lock) -> None:
    """Counts the writes of the typer's own typing document (other chats' are not ours)."""
    with lock:
        writes.extend(
            time.monotonic()
            for c in changes
            if c.type.name != "REMOVED" and c.document.id == typer_id
        )
