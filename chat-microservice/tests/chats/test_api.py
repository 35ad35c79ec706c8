import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from chat_service.chats.service import chat_id_for

MakeUser = Callable[[], Awaitable[Any]]


async def test_create_chat_returns_201_with_names_from_the_auth_service(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    response = await client.post(
        "/v1/chat/",
        json={"users_id": [alice.id, bob.id], "users_name": ["forged", "names"]},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    chat = response.json()
    assert chat["chat_id"] == str(chat_id_for(alice.id, bob.id))
    assert chat["users_id"] == [alice.id, bob.id]
    assert chat["users_name"] == [alice.username, bob.username]
    assert chat["created_at"].endswith(("Z", "+00:00"))


async def test_second_create_of_the_pair_returns_200_and_the_same_chat_in_its_order(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    first = await client.post(
        "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
    )
    again = await client.post(
        "/v1/chat", json={"users_id": [int(bob.id), int(alice.id)]}, headers=bob.headers
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


async def test_parallel_creates_of_one_pair_yield_one_201_and_one_chat(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    responses = await asyncio.gather(
        *(
            client.post(
                "/v1/chat/",
                json={"users_id": [alice.id, bob.id] if i % 2 else [bob.id, alice.id]},
                headers=(alice if i % 2 else bob).headers,
            )
            for i in range(10)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 9 + [201]
    assert len({r.text for r in responses}) == 1
    listed = (await client.get("/v1/chat/", headers=alice.headers)).json()
    assert [c["chat_id"] for c in listed] == [responses[0].json()["chat_id"]]


async def test_create_requires_the_caller_to_be_a_member(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob, carol = await make_user(), await make_user(), await make_user()
    response = await client.post(
        "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=carol.headers
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_identity"
    assert (
        await client.get(f"/v1/chat/{chat_id_for(alice.id, bob.id)}", headers=alice.headers)
    ).status_code == 404


async def test_create_with_an_unknown_user_is_404_and_creates_nothing(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice = await make_user()
    ghost = "987654321"
    response = await client.post(
        "/v1/chat/", json={"users_id": [alice.id, ghost]}, headers=alice.headers
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"User {ghost} does not exist.", "code": "user_not_found"}
    assert (await client.get("/v1/chat/", headers=alice.headers)).json() == []


async def test_invalid_create_bodies_are_422(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    for body in (
        {"users_id": [alice.id, alice.id]},
        {"users_id": [alice.id]},
        {"users_id": [alice.id, bob.id, "3"]},
        {"users_id": [alice.id, "not-a-number"]},
        {"users_id": [alice.id, "1" * 20]},
        {"users_id": [alice.id, "\u0661\u0662"]},  # Arabic-Indic digits are not ids
        {"users_id": [alice.id, "2\x00"]},
        {"users_id": [alice.id] * 1000},
        {"users_id": [alice.id, bob.id], "users_name": "not a list"},
        {},
    ):
        response = await client.post("/v1/chat/", json=body, headers=alice.headers)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], list)
    assert (await client.get("/v1/chat/", headers=alice.headers)).json() == []


async def test_endpoints_need_a_valid_token(client: httpx.AsyncClient) -> None:
    chat_path = f"/v1/chat/{uuid.uuid4()}"
    for method, path in (("GET", "/v1/chat/"), ("POST", "/v1/chat/"), ("GET", chat_path)):
        missing = await client.request(method, path, json={"users_id": ["1", "2"]})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        forged = await client.request(method, path, headers={"Authorization": "Bearer a.b.c"})
        assert forged.status_code == 401


async def test_get_chat_is_for_members_only(
    client: httpx.AsyncClient, open_chat: Callable[[], Awaitable[Any]], make_user: MakeUser
) -> None:
    alice, bob, chat = await open_chat()
    outsider = await make_user()
    path = f"/v1/chat/{chat['chat_id']}"
    assert (await client.get(path, headers=bob.headers)).json() == chat
    assert (await client.get(path + "/", headers=alice.headers)).json() == chat
    forbidden = await client.get(path, headers=outsider.headers)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "not_a_member")


async def test_unknown_and_malformed_chat_ids(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice = await make_user()
    unknown = await client.get(f"/v1/chat/{uuid.uuid4()}", headers=alice.headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "chat_not_found")
    assert (await client.get("/v1/chat/not-a-uuid", headers=alice.headers)).status_code == 422


async def test_my_chats_are_listed_newest_activity_first(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    me = await make_user()
    peers = [await make_user() for _ in range(3)]
    ids = []
    for peer in peers:
        created = await client.post(
            "/v1/chat/", json={"users_id": [me.id, peer.id]}, headers=me.headers
        )
        ids.append(created.json()["chat_id"])
    listed = await client.get("/v1/chat/", headers=me.headers)
    assert [c["chat_id"] for c in listed.json()] == ids[::-1]
    # A message in the oldest chat moves it to the top, for both members.
    sent = await client.post(
        "/v1/messaging/",
        json={"chat_id": ids[0], "to_user": peers[0].id, "body": "bump"},
        headers=me.headers,
    )
    assert sent.status_code == 201, sent.text
    listed = await client.get("/v1/chat", headers=me.headers)
    assert [c["chat_id"] for c in listed.json()] == [ids[0], ids[2], ids[1]]
    assert listed.json()[1]["last_message"] is None
    assert [
        c["chat_id"] for c in (await client.get("/v1/chat/", headers=peers[0].headers)).json()
    ] == [ids[0]]


async def test_my_chats_show_their_latest_message_to_both_members(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    me, peer = await make_user(), await make_user()
    created = await client.post(
        "/v1/chat/", json={"users_id": [me.id, peer.id]}, headers=me.headers
    )
    chat_id = created.json()["chat_id"]
    sent = []
    for sender, receiver, body in [(me, peer, "first"), (peer, me, "second"), (me, peer, "third")]:
        response = await client.post(
            "/v1/messaging/",
            json={"chat_id": chat_id, "to_user": receiver.id, "body": body},
            headers=sender.headers,
        )
        sent.append(response.json())
    for user in (me, peer):
        [entry] = (await client.get("/v1/chat/", headers=user.headers)).json()
        newest = sent[-1]
        assert entry["last_activity"] == newest["time_iso"]
        assert entry["last_message"] == {
            key: newest[key]
            for key in (
                "message_id",
                "from_user",
                "body",
                "time",
                "time_iso",
                "edited_at",
                "deleted",
            )
        }
    # Each sender has read up to its own newest message; the peer has "third" unread.
    [mine] = (await client.get("/v1/chat/", headers=me.headers)).json()
    [theirs] = (await client.get("/v1/chat/", headers=peer.headers)).json()
    assert (mine["read_up_to"], mine["unread_count"]) == (sent[2]["time"], 0)
    assert (theirs["read_up_to"], theirs["unread_count"]) == (sent[1]["time"], 1)
    assert not mine["unread_count_capped"]
    assert not theirs["unread_count_capped"]
