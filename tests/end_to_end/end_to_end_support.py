"""What the end-to-end tests share: the running pipeline, users, chats, Firestore reads."""

import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore  # type: ignore[attr-defined]

from devstack import processes
from devstack import stack as runner
from devstack.components.base import Component
from devstack.settings import StackSettings
from devstack.testing import unique_name


def service_environment(
    topics: dict[str, str], keyspace: str, firestore_project: str
) -> dict[str, str]:
    """The services' variables for a test pipeline: its own topics (`messages`, `grouped`,
    `dead_letters`), keyspace, Firestore project and rate-limit counters, generous limits, one
    process per service (so a kill -9 of the service is a kill of all of it), short bursts."""
    return {
        "AUTH_SIGNUPS_PER_ADDRESS": "1000",
        "AUTH_WORKERS": "1",
        "CHAT_WORKERS": "1",
        # User ids restart in each fresh database, while Redis keeps older counters.
        "AUTH_RATE_LIMIT_PREFIX": unique_name("auth_limits"),
        "CHAT_RATE_LIMIT_PREFIX": unique_name("chat_limits"),
        "CHAT_KEYSPACE": keyspace,
        "CHAT_MESSAGES_TOPIC": topics["messages"],
        "CHAT_SEND_RATE_PER_SECOND": "1000",
        "CHAT_SEND_BURST": "1000",
        "CHAT_CHANGE_RATE_PER_MINUTE": "100000",
        "AGGREGATOR_INPUT_TOPIC": topics["messages"],
        "AGGREGATOR_OUTPUT_TOPIC": topics["grouped"],
        "AGGREGATOR_GROUP_ID": unique_name("aggregator"),
        "AGGREGATOR_TRANSACTIONAL_ID": unique_name("aggregator"),
        "AGGREGATOR_DEAD_LETTER_TOPIC": topics["dead_letters"],
        "AGGREGATOR_IDLE_TIMEOUT": "1",
        "AGGREGATOR_MAX_LATENCY": "2",
        "AGGREGATED_CONSUMER_INPUT_TOPIC": topics["grouped"],
        "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": topics["dead_letters"],
        "AGGREGATED_CONSUMER_GROUP_ID": unique_name("consumer"),
        "AGGREGATED_CONSUMER_FIREBASE_PROJECT": firestore_project,
    }


@dataclass
class Pipeline:
    settings: StackSettings
    components: dict[str, Component]
    """The four services, and the infrastructure pieces a test may break, by name."""
    firestore_project: str

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.auth_port}/auth/api"

    @property
    def chat_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.chat_port}/chat/api"

    def kill(self, name: str) -> None:
        """kill -9 of the component's whole process group, as a crash would do it."""
        pid = processes.read_pid(self.components[name].pid_file)
        assert pid is not None, f"{name} was never started"
        assert processes.pid_alive(pid), f"{name} is not running"
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while processes.process_group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self, name: str) -> None:
        runner.up([self.components[name]])

    def pid(self, name: str) -> int | None:
        return processes.read_pid(self.components[name].pid_file)

    def live_query(
        self, client: httpx.Client, chat_id: str, *, member: str, signed_in_as: "User"
    ) -> tuple[int, int]:
        """The browser's live query (bursts of a chat whose `members` contain `member`), run
        through Firestore's REST API signed in to Firebase as `signed_in_as`, with the custom
        token of their login; returns (HTTP status, documents found)."""
        settings = self.settings.endpoints
        signed_in = client.post(
            f"http://{settings.firebase_auth_emulator_host}/identitytoolkit.googleapis.com/v1/"
            "accounts:signInWithCustomToken?key=any-key-works-with-the-emulator",
            json={"token": signed_in_as.firebase_token, "returnSecureToken": True},
        )
        assert signed_in.status_code == 200, signed_in.text
        query = {
            "from": [{"collectionId": "aggregates"}],
            "where": {
                "fieldFilter": {
                    "field": {"fieldPath": "members"},
                    "op": "ARRAY_CONTAINS",
                    "value": {"stringValue": member},
                }
            },
        }
        response = client.post(
            f"http://{settings.firestore_emulator_host}/v1/projects/{self.firestore_project}"
            f"/databases/(default)/documents/chats/{chat_id}:runQuery",
            headers={"Authorization": f"Bearer {signed_in.json()['idToken']}"},
            json={"structuredQuery": query},
        )
        if response.status_code != 200:
            return response.status_code, 0
        return 200, sum(1 for row in response.json() if "document" in row)

    def aggregates(self, chat_id: str) -> list[dict[str, object]]:
        client = firestore.Client(
            project=self.firestore_project, credentials=AnonymousCredentials()
        )
        try:
            documents = client.collection("chats").document(chat_id).collection("aggregates")
            return [snapshot.to_dict() for snapshot in documents.stream()]
        finally:
            client.close()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    token: str
    firebase_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign_up_and_log_in(client: httpx.Client, pipeline: Pipeline, username: str) -> User:
    password = f"pw-{username}-long-enough"
    created = client.post(
        f"{pipeline.auth_url}/v1/users/", json={"username": username, "password": password}
    )
    assert created.status_code == 201, created.text
    login = client.post(
        f"{pipeline.auth_url}/v1/login/", data={"username": username, "password": password}
    )
    assert login.status_code == 200, login.text
    body = login.json()
    return User(str(created.json()["id"]), username, body["access_token"], body["firebase_token"])


def open_chat(client: httpx.Client, pipeline: Pipeline, owner: User, other: User) -> str:
    response = client.post(
        f"{pipeline.chat_url}/v1/chat/",
        headers=owner.headers,
        json={"users_id": [owner.id, other.id], "users_name": [owner.username, other.username]},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["chat_id"])


def send_message(
    client: httpx.Client, pipeline: Pipeline, chat_id: str, sender: User, receiver: User, body: str
) -> dict[str, object]:
    """Sends `body` with a fresh `client_message_id`; returns the stored message (201)."""
    response = client.post(
        f"{pipeline.chat_url}/v1/messaging/",
        headers=sender.headers,
        json={"chat_id": chat_id, "to_user": receiver.id, "body": body,
              "client_message_id": uuid.uuid4().hex},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


def message_ids_in_firestore(aggregates: list[dict[str, object]]) -> list[str]:
    """Every message id of every burst document, one entry per appearance."""
    return [
        str(message["message_id"])
        for document in aggregates
        for message in document["list_of_messages"]  # type: ignore[attr-defined]
    ]


def wait_for(condition: Callable[[], bool], within: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
