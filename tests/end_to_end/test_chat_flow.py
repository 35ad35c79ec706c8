"""Two users chat through the public APIs: history from Cassandra, live bursts in Firestore."""

import httpx
from end_to_end_support import (
    Pipeline,
    message_ids_in_firestore,
    open_chat,
    send_message,
    sign_up_and_log_in,
    wait_for,
)

from devstack.testing import unique_name


def test_messages_reach_history_and_one_firestore_document_per_burst(pipeline: Pipeline) -> None:
    with httpx.Client(timeout=10) as client:
        alice = sign_up_and_log_in(client, pipeline, unique_name("alice"))
        bob = sign_up_and_log_in(client, pipeline, unique_name("bob"))
        chat = open_chat(client, pipeline, alice, bob)
        empty = client.get(f"{pipeline.chat_url}/v1/chat/{chat}/messages/", headers=bob.headers)
        sent = []
        for sender, receiver, body in [
            (alice, bob, "hi Bob"), (alice, bob, "are you there?"), (alice, bob, "lunch?"),
            (bob, alice, "yes, 12:30"),
        ]:  # fmt: skip
            sent.append(send_message(client, pipeline, chat, sender, receiver, body))
        history = client.get(
            f"{pipeline.chat_url}/v1/chat/{chat}/messages/", headers=bob.headers
        ).json()

    assert empty.status_code == 200
    assert empty.json() == []
    assert [m["body"] for m in history] == ["yes, 12:30", "lunch?", "are you there?", "hi Bob"]
    assert wait_for(lambda: len(message_ids_in_firestore(pipeline.aggregates(chat))) >= 4, 20)
    documents = sorted(pipeline.aggregates(chat), key=lambda d: str(d["first_message_time"]))
    assert [(d["from_user"], d["count"]) for d in documents] == [(alice.id, 3), (bob.id, 1)]
    assert [m["body"] for m in documents[0]["list_of_messages"]] == [
        "hi Bob", "are you there?", "lunch?",
    ]  # fmt: skip
    assert all(sorted(d["members"]) == sorted([alice.id, bob.id]) for d in documents)
    assert sorted(message_ids_in_firestore(documents)) == sorted(m["message_id"] for m in sent)


def test_an_outsider_can_read_neither_the_chat_nor_its_live_bursts(pipeline: Pipeline) -> None:
    with httpx.Client(timeout=10) as client:
        alice = sign_up_and_log_in(client, pipeline, unique_name("alice"))
        bob = sign_up_and_log_in(client, pipeline, unique_name("bob"))
        eve = sign_up_and_log_in(client, pipeline, unique_name("eve"))
        chat = open_chat(client, pipeline, alice, bob)
        send_message(client, pipeline, chat, alice, bob, "just between us")
        assert wait_for(lambda: len(pipeline.aggregates(chat)) == 1, 20)
        api_answers = [
            client.get(f"{pipeline.chat_url}/v1/chat/{chat}", headers=eve.headers).status_code,
            client.get(
                f"{pipeline.chat_url}/v1/chat/{chat}/messages/", headers=eve.headers
            ).status_code,
        ]
        # The live query the browser runs, signed in to Firebase as each user.
        live = {
            user.username: pipeline.live_query(client, chat, member=user.id, signed_in_as=user)
            for user in (bob, eve)
        }
        eve_asking_for_bob = pipeline.live_query(client, chat, member=bob.id, signed_in_as=eve)

    assert api_answers == [403, 403]
    assert live[bob.username] == (200, 1)
    assert live[eve.username] == (200, 0)
    assert eve_asking_for_bob[0] == 403
