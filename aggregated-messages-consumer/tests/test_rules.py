"""The repository's firestore.rules, loaded into the emulator for a project of the test's own.

The emulator evaluates unsigned Firebase ID tokens (`alg: none`) as real sign-ins, and
`Bearer owner` as an admin that bypasses the rules (used here only to seed the document).
"""

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.settings import Endpoints

RULES = Path(__file__).resolve().parents[2] / "firestore.rules"
MEMBERS = ["11", "22"]


def _id_token(project: str, uid: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "sub": uid,
        "user_id": uid,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "firebase": {"identities": {}, "sign_in_provider": "custom"},
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class Emulator:
    def __init__(self, host: str, project: str) -> None:
        self.base = f"http://{host}/v1/projects/{project}/databases/(default)/documents"
        self.project = project
        self.http = httpx.Client(timeout=10)

    def load_rules(self, host: str) -> None:
        # Rules are per project in the emulator; loading the repository's file into the
        # test's project tests exactly what gets deployed.
        response = self.http.put(
            f"http://{host}/emulator/v1/projects/{self.project}:securityRules",
            json={"rules": {"files": [{"content": RULES.read_text()}]}},
        )
        assert response.status_code == 200, response.text

    def headers(self, uid: str | None) -> dict[str, str]:
        if uid is None:
            return {}
        token = "owner" if uid == "owner" else _id_token(self.project, uid)
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, uid: str | None) -> int:
        return self.http.get(f"{self.base}/{path}", headers=self.headers(uid)).status_code

    def write(self, path: str, uid: str | None, members: list[str]) -> int:
        values = [{"stringValue": m} for m in members]
        body = {
            "fields": {"members": {"arrayValue": {"values": values}}, "body": {"stringValue": "x"}}
        }
        return self.http.patch(
            f"{self.base}/{path}", headers=self.headers(uid), json=body
        ).status_code

    def delete(self, path: str, uid: str | None) -> int:
        return self.http.delete(f"{self.base}/{path}", headers=self.headers(uid)).status_code

    def query_aggregates(self, chat: str, uid: str | None, *, filter_members: bool) -> int:
        query: dict[str, Any] = {"from": [{"collectionId": "aggregates"}]}
        if filter_members:
            query["where"] = {
                "fieldFilter": {
                    "field": {"fieldPath": "members"},
                    "op": "ARRAY_CONTAINS",
                    "value": {"stringValue": uid},
                }
            }
        response = self.http.post(
            f"{self.base}/chats/{chat}:runQuery",
            headers=self.headers(uid),
            json={"structuredQuery": query},
        )
        return response.status_code


AGGREGATE = "chats/c1/aggregates/11_burst"


@pytest.fixture
def emulator(stack: Endpoints, firestore_project: str) -> Emulator:
    emulator = Emulator(stack.firestore_emulator_host, firestore_project)
    emulator.load_rules(stack.firestore_emulator_host)
    assert emulator.write(AGGREGATE, "owner", MEMBERS) == 200
    return emulator


def test_member_reads_an_aggregate_of_their_chat(emulator: Emulator) -> None:
    assert emulator.get(AGGREGATE, "11") == 200
    assert emulator.get(AGGREGATE, "22") == 200


@pytest.mark.parametrize("uid", ["33", None], ids=["outsider", "anonymous"])
def test_outsider_and_anonymous_cannot_read(emulator: Emulator, uid: str | None) -> None:
    assert emulator.get(AGGREGATE, uid) == 403


def test_member_lists_the_chat_only_with_a_members_filter(emulator: Emulator) -> None:
    assert emulator.query_aggregates("c1", "11", filter_members=True) == 200
    assert emulator.query_aggregates("c1", "11", filter_members=False) == 403
    assert emulator.query_aggregates("c1", "33", filter_members=True) == 200  # an empty answer


@pytest.mark.parametrize("uid", ["11", "33", None], ids=["member", "outsider", "anonymous"])
def test_nobody_writes_from_a_client(emulator: Emulator, uid: str | None) -> None:
    assert emulator.write(AGGREGATE, uid, MEMBERS) == 403
    assert emulator.write("chats/c1/aggregates/new_one", uid, MEMBERS) == 403
    assert emulator.delete(AGGREGATE, uid) == 403
    assert emulator.write("anything/else", uid, MEMBERS) == 403
    assert emulator.get(AGGREGATE, "owner") == 200


def test_documents_outside_chat_aggregates_are_closed(emulator: Emulator) -> None:
    assert emulator.write("chats/c1", "owner", MEMBERS) == 200
    assert emulator.get("chats/c1", "11") == 403
