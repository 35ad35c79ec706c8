"""The send answered directly (`http_kit.serve_directly`) and through FastAPI's route (its
slash-less twin, and whatever the direct handler hands over) is one endpoint: the same
bytes, the same errors, one series of request metrics."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

OpenChat = Callable[[], Awaitable[Any]]


async def test_direct_and_routed_answers_are_the_same_bytes(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    payload = {
        "chat_id": chat["chat_id"],
        "to_user": bob.id,
        "body": "é ✓ 👍",
        "client_message_id": "b",
    }
    direct = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
    routed = await client.post("/v1/messaging", json=payload, headers=alice.headers)
    again = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
    assert (direct.status_code, routed.status_code, again.status_code) == (201, 200, 200)
    assert direct.content == routed.content == again.content
    assert direct.headers["content-type"] == routed.headers["content-type"]


async def test_a_send_the_direct_handler_takes_never_reaches_the_route(
    client: httpx.AsyncClient, open_chat: OpenChat, routed: list[str]
) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id}
    direct = await client.post(
        "/v1/messaging/", json={**payload, "body": "a"}, headers=alice.headers
    )
    twin = await client.post("/v1/messaging", json={**payload, "body": "b"}, headers=alice.headers)
    assert [direct.status_code, twin.status_code] == [201, 201]
    assert routed == ["/chat/api/v1/messaging"]


async def test_refusals_are_the_routes_own(client: httpx.AsyncClient, open_chat: OpenChat) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id, "body": "hi"}
    for path in ("/v1/messaging/", "/v1/messaging"):
        no_token = await client.post(path, json=payload)
        bad_body = await client.post(path, json={**payload, "body": ""}, headers=alice.headers)
        not_json = await client.post(
            path, content=b"body=hi", headers={**alice.headers, "content-type": "text/plain"}
        )
        wrong_peer = await client.post(
            path, json={**payload, "to_user": alice.id}, headers=alice.headers
        )
        answers = [(r.status_code, r.json()["code"]) for r in (no_token, bad_body, not_json)]
        assert answers == [
            (401, "not_authenticated"),
            (422, "validation_error"),
            (422, "validation_error"),
        ]
        assert no_token.headers["www-authenticate"] == "Bearer"
        assert (wrong_peer.status_code, wrong_peer.json()["code"]) == (422, "invalid_request")


async def test_direct_and_routed_sends_are_one_series_of_request_metrics(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id}
    for path, body in (("/v1/messaging/", "one"), ("/v1/messaging", "two")):
        sent = await client.post(path, json={**payload, "body": body}, headers=alice.headers)
        assert sent.status_code == 201, sent.text
    lines = (await client.get("/metrics")).text.splitlines()
    counts = [
        line
        for line in lines
        if line.startswith("chat_http_request_duration_seconds_count")
        and 'method="POST"' in line
        and "messaging" in line
    ]
    assert len(counts) == 1, counts
    assert counts[0].endswith(" 2.0")
