"""The history page answered directly (`http_kit.serve_directly`) and through FastAPI's route
(its slash-less twin, and whatever the direct handler hands over) is one endpoint: the same
bytes, the same errors, one series of request metrics."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

OpenChat = Callable[[], Awaitable[Any]]


async def _both(client: httpx.AsyncClient, chat_id: str, query: str, user: Any) -> list[Any]:
    """The answers of the direct spelling and of the routed one to the same request."""
    return [
        await client.get(f"/v1/chat/{chat_id}/messages{slash}{query}", headers=user.headers)
        for slash in ("/", "")
    ]


async def test_direct_and_routed_pages_are_the_same_bytes(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id}
    times = []
    for body in ("é ✓ 👍", 'quote " and \\ slash', "line\nbreak\ttab", "to edit", "to delete"):
        sent = await client.post(
            "/v1/messaging/", json={**payload, "body": body}, headers=alice.headers
        )
        assert sent.status_code == 201, sent.text
        times.append(sent.json()["time"])
    base = f"/v1/chat/{chat['chat_id']}/messages"
    edited = await client.patch(
        f"{base}/{times[3]}", json={"body": "edited"}, headers=alice.headers
    )
    deleted = await client.delete(f"{base}/{times[4]}", headers=alice.headers)
    assert (edited.status_code, deleted.status_code) == (200, 200)
    queries = [
        "",
        "?quantity=2",
        "?quantity=100",
        f"?quantity=2&time={times[3]}",
        f"?time={times[1]}",
        "?quantity=1&quantity=3",
        "?quantity=4&other=x",
    ]
    for query in queries:
        direct, routed = await _both(client, chat["chat_id"], query, bob)
        assert (direct.status_code, routed.status_code) == (200, 200), query
        assert direct.content == routed.content, query
        assert direct.headers["content-type"] == routed.headers["content-type"]
    whole = (await _both(client, chat["chat_id"], "", bob))[0].json()
    assert [m["body"] for m in whole] == [
        "",
        "edited",
        "line\nbreak\ttab",
        'quote " and \\ slash',
        "é ✓ 👍",
    ]
    last_three = (await _both(client, chat["chat_id"], "?quantity=1&quantity=3", bob))[0].json()
    assert len(last_three) == 3


async def test_a_page_the_direct_handler_takes_never_reaches_the_route(
    client: httpx.AsyncClient, open_chat: OpenChat, routed: list[str]
) -> None:
    _, bob, chat = await open_chat()
    base = f"/v1/chat/{chat['chat_id']}/messages"
    direct = await client.get(f"{base}/?quantity=2", headers=bob.headers)
    twin = await client.get(f"{base}?quantity=2", headers=bob.headers)
    assert [direct.status_code, twin.status_code] == [200, 200]
    assert routed == [f"/chat/api{base}"]


async def test_refusals_are_the_routes_own(client: httpx.AsyncClient, open_chat: OpenChat) -> None:
    alice, _, chat = await open_chat()
    carol, _, _ = await open_chat()
    chat_id = chat["chat_id"]
    cases = [
        (chat_id, "", None, 401, "not_authenticated"),
        ("not-a-uuid", "", alice, 422, "validation_error"),
        (chat_id, "?quantity=0", alice, 422, "validation_error"),
        (chat_id, "?quantity=101", alice, 422, "validation_error"),
        (chat_id, "?quantity=", alice, 422, "validation_error"),
        (chat_id, "?quantity=ten", alice, 422, "validation_error"),
        (chat_id, f"?time={uuid.uuid4()}", alice, 422, "validation_error"),
        (chat_id, "?time=", alice, 422, "validation_error"),
        (chat_id, "", carol, 403, "not_a_member"),
        (str(uuid.uuid4()), "", alice, 404, "chat_not_found"),
    ]
    for path_chat, query, user, status, code in cases:
        headers = user.headers if user is not None else {}
        answers = [
            await client.get(f"/v1/chat/{path_chat}/messages{slash}{query}", headers=headers)
            for slash in ("/", "")
        ]
        assert [(a.status_code, a.json()["code"]) for a in answers] == [(status, code)] * 2, (
            path_chat,
            query,
        )
        assert answers[0].content == answers[1].content


async def test_direct_and_routed_pages_are_one_series_of_request_metrics(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, _, chat = await open_chat()
    for slash in ("/", ""):
        page = await client.get(
            f"/v1/chat/{chat['chat_id']}/messages{slash}", headers=alice.headers
        )
        assert page.status_code == 200, page.text
    lines = (await client.get("/metrics")).text.splitlines()
    counts = [
        line
        for line in lines
        if line.startswith("chat_http_request_duration_seconds_count")
        and 'method="GET"' in line
        and "messages" in line
    ]
    assert len(counts) == 1, counts
    assert counts[0].endswith(" 2.0")
