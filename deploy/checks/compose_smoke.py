"""A user's first minutes against a running `docker compose` stack, through its published ports:
two people sign up and log in, open a chat, send messages, read the history directly and
through the UI's proxy, see the burst land in Firestore, and load the UI's page.

Ports come from the same *_HOST_PORT variables the compose file reads. Exits non-zero, naming
the step, on the first thing that is not as a user would expect.
"""

import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

PROJECT = "demo-chat"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


AUTH = f"http://127.0.0.1:{_port('AUTH_HOST_PORT', 8000)}/auth/api"
CHAT = f"http://127.0.0.1:{_port('CHAT_HOST_PORT', 9000)}/chat/api"
UI = f"http://127.0.0.1:{_port('UI_HOST_PORT', 3000)}"
FIRESTORE = f"http://127.0.0.1:{_port('FIRESTORE_HOST_PORT', 8080)}"


class SmokeFailure(Exception):
    pass


def expect(response: httpx.Response, status: int, step: str) -> Any:
    if response.status_code != status:
        raise SmokeFailure(f"{step}: expected {status}, got {response.status_code} {response.text}")
    return (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else response.text
    )


def sign_up_and_log_in(client: httpx.Client, name: str) -> dict[str, str]:
    password = f"{name}-password-long-enough"
    user = expect(
        client.post(f"{AUTH}/v1/users/", json={"username": name, "password": password}),
        201,
        f"sign up {name}",
    )
    tokens = expect(
        client.post(f"{AUTH}/v1/login/", data={"username": name, "password": password}),
        200,
        f"log in {name}",
    )
    return {"id": str(user["id"]), "name": name, "token": tokens["access_token"]}


def bursts_in_firestore(client: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    # "Bearer owner" is the emulator's administrator: it reads past the security rules.
    response = client.get(
        f"{FIRESTORE}/v1/projects/{PROJECT}/databases/(default)/documents/chats/{chat_id}/aggregates",
        headers={"Authorization": "Bearer owner"},
    )
    return list(expect(response, 200, "read Firestore").get("documents", []))


def wait_for(condition: Callable[[], bool], within: float, step: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{step}: not within {within:.0f} s")
        time.sleep(0.5)


def run() -> None:
    suffix = uuid.uuid4().hex[:8]
    with httpx.Client(timeout=15) as client:
        alice = sign_up_and_log_in(client, f"alice_{suffix}")
        bob = sign_up_and_log_in(client, f"bob_{suffix}")
        print("signed up and logged in two users")
        as_alice = {"Authorization": f"Bearer {alice['token']}"}
        chat = expect(client.post(f"{CHAT}/v1/chat/", headers=as_alice, json={
            "users_id": [alice["id"], bob["id"]], "users_name": [alice["name"], bob["name"]],
        }), 201, "open a chat")["chat_id"]  # fmt: skip
        bodies = ["hello from a container", "second message, same burst"]
        for body in bodies:
            expect(client.post(f"{CHAT}/v1/messaging/", headers=as_alice, json={
                "chat_id": chat, "to_user": bob["id"], "body": body,
                "client_message_id": uuid.uuid4().hex,
            }), 201, "send a message")  # fmt: skip
        print(f"opened chat {chat} and sent {len(bodies)} messages")
        as_bob = {"Authorization": f"Bearer {bob['token']}"}
        history = expect(
            client.get(f"{CHAT}/v1/chat/{chat}/messages/", headers=as_bob), 200, "read history"
        )
        if [m["body"] for m in history] != bodies[::-1]:
            raise SmokeFailure(f"read history: got {history}")
        proxied = expect(
            client.get(f"{UI}/chat/api/v1/chat/{chat}/messages/", headers=as_bob),
            200,
            "read history through the UI",
        )
        if [m["body"] for m in proxied] != bodies[::-1]:
            raise SmokeFailure(f"read history through the UI: got {proxied}")
        print("history read directly and through the UI's proxy, newest first")
        wait_for(
            lambda: sum(_count(d) for d in bursts_in_firestore(client, chat)) == len(bodies),
            30,
            "burst in Firestore",
        )
        bursts = len(bursts_in_firestore(client, chat))
        print(f"{bursts} burst document(s) in Firestore hold both messages")
        page = expect(client.get(f"{UI}/"), 200, "load the UI")
        config = expect(client.get(f"{UI}/ui-config"), 200, "UI configuration")
        if "<html" not in page or config["firebase"]["projectId"] != PROJECT:
            raise SmokeFailure("load the UI: the page or its configuration is not the chat UI's")
        print("the UI's page and configuration load")


def _count(document: dict[str, Any]) -> int:
    return int(document["fields"]["count"]["integerValue"])


def main() -> None:
    try:
        run()
    except (SmokeFailure, httpx.HTTPError) as failure:
        print(f"smoke test failed: {failure}", file=sys.stderr)
        sys.exit(1)
    print("smoke test passed")


if __name__ == "__main__":
    main()
