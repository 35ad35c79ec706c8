"""Sends and requests crafted to break decoding, storage or memory: always a clear 4xx in the
documented shape (422 with a list of problems, any other status `{"detail", "code"}`), never
a 500, and nothing stored; and the strangest text that is allowed comes back exactly."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

OpenChat = Callable[[], Awaitable[Any]]
# A case turns a valid send payload into the raw request body and its content type.
Case = Callable[[dict[str, Any]], tuple[bytes, str | None]]
JSON = "application/json"
TEN_MB = 10 * 1024 * 1024


def _json(**changes: Any) -> Case:
    def build(payload: dict[str, Any]) -> tuple[bytes, str | None]:
        changed = {key: value for key, value in {**payload, **changes}.items() if value is not ...}
        return json.dumps(changed).encode(), JSON

    return build


def _raw(template: bytes, content_type: str | None = JSON) -> Case:
    """`template` with `CHAT` and `TO` replaced by the chat's id and the recipient."""

    def build(payload: dict[str, Any]) -> tuple[bytes, str | None]:
        content = template.replace(b"CHAT", payload["chat_id"].encode())
        return content.replace(b"TO", payload["to_user"].encode()), content_type

    return build


REFUSED_SENDS: dict[str, Case] = {
    "body_blank": _json(body=" \n\t "),
    "body_4001": _json(body="x" * 4001),
    "body_4001_emoji": _json(body="\U0001f600" * 4001),
    "body_nul": _json(body="a\x00b"),
    "body_escape": _json(body="a\x1b[2Jb"),
    "body_carriage_return": _json(body="a\rb"),
    "body_delete": _json(body="a\x7fb"),
    "body_c1_control": _json(body="a\x85b"),
    "body_number": _json(body=5),
    "body_missing": _json(body=...),
    "chat_id_not_uuid": _json(chat_id="not-a-uuid"),
    "to_user_20_digits": _json(to_user="1" * 20),
    "to_user_missing": _json(to_user=...),
    "key_101": _json(client_message_id="k" * 101),
    "key_not_ascii": _json(client_message_id="cl\u00e9"),
    "key_space": _json(client_message_id="a key"),
    "lone_surrogate": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "a\\ud800b"}'),
    "lone_low_surrogate": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "\\udc80"}'),
    "encoded_surrogate": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "\xed\xa0\x80"}'),
    "not_utf8": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "\xff\xfe"}'),
    "truncated": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "hi'),
    "deep": _raw(b'{"chat_id": "CHAT", "body": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
    "not_an_object": _raw(b'["CHAT", "TO", "hi"]'),
    "empty": _raw(b""),
    "text_plain": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "hi"}', "text/plain"),
    "form": _raw(b"chat_id=CHAT&to_user=TO&body=hi", "application/x-www-form-urlencoded"),
    "no_content_type": _raw(b'{"chat_id": "CHAT", "to_user": "TO", "body": "hi"}', None),
}


async def _nothing_stored(client: httpx.AsyncClient, chat: dict[str, Any], user: Any) -> None:
    history = await client.get(
        f"/v1/chat/{chat['chat_id']}/messages/", params={"quantity": 100}, headers=user.headers
    )
    assert history.json() == []
    chats = (await client.get("/v1/chat/", headers=user.headers)).json()
    assert [summary["last_message"] for summary in chats] == [None]


def _assert_validation_error(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert isinstance(body["detail"], list)
    assert all({"loc", "msg", "type"} <= problem.keys() for problem in body["detail"])


@pytest.mark.parametrize("case", list(REFUSED_SENDS.values()), ids=list(REFUSED_SENDS))
async def test_refused_sends_are_422_and_store_nothing(
    client: httpx.AsyncClient, open_chat: OpenChat, case: Case
) -> None:
    alice, bob, chat = await open_chat()
    content, content_type = case({"chat_id": chat["chat_id"], "to_user": bob.id, "body": "hi"})
    headers = {**alice.headers, **({"Content-Type": content_type} if content_type else {})}
    response = await client.post("/v1/messaging/", content=content, headers=headers)
    _assert_validation_error(response)
    await _nothing_stored(client, chat, alice)


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ("\U0001f600" * 4000, "\U0001f600" * 4000),
        ("e" + "\u0301" * 3999, "e" + "\u0301" * 3999),
        (
            "\u202eolleh\u202c \u05e9\u05dc\u05d5\u05dd",
            "\u202eolleh\u202c \u05e9\u05dc\u05d5\u05dd",
        ),
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        (" \n\t" * 1000 + "x" * 4000 + "\n" * 1000, "x" * 4000),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
    ],
    ids=["4000_emoji", "combining", "rtl", "zwj_sequence", "trimmed_to_4000", "tab_newline"],
)
async def test_text_at_the_limits_is_stored_exactly(
    client: httpx.AsyncClient, open_chat: OpenChat, body: str, stored: str
) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id, "body": body}
    sent = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
    assert (sent.status_code, sent.json()["body"]) == (201, stored)
    history = await client.get(f"/v1/chat/{chat['chat_id']}/messages/", headers=bob.headers)
    assert [message["body"] for message in history.json()] == [stored]


async def _ten_megabytes_in_chunks(prefix: bytes) -> AsyncIterator[bytes]:
    yield prefix
    for _ in range(TEN_MB // 65_536):
        yield b"x" * 65_536
    yield b'"}'


async def test_a_ten_megabyte_body_is_413_and_stores_nothing(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    prefix = json.dumps({"chat_id": chat["chat_id"], "to_user": bob.id})[:-1] + ', "body": "'
    whole = prefix.encode() + b"x" * TEN_MB + b'"}'
    for path, content in (
        ("/v1/messaging/", whole),
        ("/v1/messaging/", _ten_megabytes_in_chunks(prefix.encode())),
        ("/v1/chat/", b'{"users_id": ["' + b"1" * TEN_MB + b'"]}'),
    ):
        headers = {**alice.headers, "Content-Type": JSON}
        response = await client.post(path, content=content, headers=headers)
        assert (response.status_code, response.json()["code"]) == (413, "content_too_large")
        assert isinstance(response.json()["detail"], str)
    await _nothing_stored(client, chat, alice)


async def test_bodies_up_to_the_configured_cap_are_read(
    serve_app: Callable[..., Any], open_chat_on: Callable[[httpx.AsyncClient], Awaitable[Any]]
) -> None:
    async with serve_app(max_body_bytes=2048) as client:
        alice, bob, chat = await open_chat_on(client)
        frame = json.dumps({"chat_id": chat["chat_id"], "to_user": bob.id, "body": ""}).encode()

        async def send_of(length: int) -> httpx.Response:
            content = frame[:-2] + b"x" * (length - len(frame)) + frame[-2:]
            assert len(content) == length
            headers = {**alice.headers, "Content-Type": JSON}
            return await client.post("/v1/messaging/", content=content, headers=headers)

        assert (await send_of(2048)).status_code == 201
        too_long = await send_of(2049)
        assert (too_long.status_code, too_long.json()["code"]) == (413, "content_too_large")
        history = await client.get(f"/v1/chat/{chat['chat_id']}/messages/", headers=bob.headers)
        assert len(history.json()) == 1


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer " + "a" * 8_000,
        "Bearer " + ".".join(["eyJhbGciOiJIUzI1NiJ9"] * 3) * 100,
        b"Bearer \xff\xfe",
    ],
    ids=["8_kb", "many_segments", "not_ascii"],
)
async def test_long_or_binary_bearer_tokens_are_401(
    client: httpx.AsyncClient, authorization: str | bytes
) -> None:
    for method, path in (("GET", "/v1/chat/"), ("POST", "/v1/messaging/")):
        response = await client.request(
            method, path, json={}, headers={"Authorization": authorization}
        )
        assert (response.status_code, response.json()["code"]) == (401, "invalid_token")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "extra",
    [
        {"Authorization": "Bearer " + "a" * 1_000_000},
        {"X-Padding": "p" * 1_000_000},
        {f"X-Many-{n}": "p" * 100 for n in range(200)},
    ],
    ids=["1_mb_token", "1_mb_header", "many_headers"],
)
async def test_headers_past_the_cap_are_431_and_store_nothing(
    client: httpx.AsyncClient, open_chat: OpenChat, extra: dict[str, str]
) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id, "body": "hi"}
    response = await client.post("/v1/messaging/", json=payload, headers={**alice.headers, **extra})
    assert response.status_code == 431, response.text
    assert response.json()["code"] == "request_header_fields_too_large"
    await _nothing_stored(client, chat, alice)
