"""The repository's firestore.rules, loaded into the emulator for a project of the test's own.

The emulator evaluates unsigned Firebase ID tokens (`alg: none`) as real sign-ins, and
`Bearer owner` as an admin that bypasses the rules (used here only to seed the document).
"""

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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

    def write_fields(self, path: str, uid: str | None, fields: dict[str, Any]) -> int:
        """Creates or replaces a document with these REST-encoded fields."""
        return self.http.patch(
            f"{self.base}/{path}", headers=self.headers(uid), json={"fields": fields}
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


READ_MARK = "chats/c1/reads/22"


def _members(*uids: str) -> dict[str, Any]:
    return {"arrayValue": {"values": [{"stringValue": u} for u in uids]}}


def _in(seconds: float) -> dict[str, Any]:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return {"timestampValue": moment.isoformat().replace("+00:00", "Z")}


def _typing(members: tuple[str, ...] = ("11", "22"), ahead: float = 6) -> dict[str, Any]:
    return {"members": _members(*members), "until": _in(ahead)}


def test_members_read_the_read_marks_of_their_chat(emulator: Emulator) -> None:
    assert emulator.write(READ_MARK, "owner", MEMBERS) == 200
    assert emulator.get(READ_MARK, "11") == 200
    assert emulator.get(READ_MARK, "22") == 200


@pytest.mark.parametrize("uid", ["33", None], ids=["outsider", "anonymous"])
def test_outsiders_and_anonymous_cannot_read_a_read_mark(
    emulator: Emulator, uid: str | None
) -> None:
    assert emulator.write(READ_MARK, "owner", MEMBERS) == 200
    assert emulator.get(READ_MARK, uid) == 403


def test_a_read_mark_not_written_yet_may_be_listened_to_when_signed_in(
    emulator: Emulator,
) -> None:
    assert emulator.get("chats/c1/reads/11", "11") == 404  # allowed, and not there
    assert emulator.get("chats/c1/reads/11", "33") == 404
    assert emulator.get("chats/c1/reads/11", None) == 403


@pytest.mark.parametrize("uid", ["11", "22", "33", None])
def test_nobody_writes_a_read_mark_from_a_client(emulator: Emulator, uid: str | None) -> None:
    assert emulator.write(READ_MARK, "owner", MEMBERS) == 200
    assert emulator.write(READ_MARK, uid, MEMBERS) == 403
    assert emulator.write(f"chats/c1/reads/{uid}", uid, MEMBERS) == 403
    assert emulator.delete(READ_MARK, uid) == 403


def test_a_member_creates_and_updates_their_own_typing_document(emulator: Emulator) -> None:
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing()) == 200
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing(ahead=0)) == 200
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing(ahead=-60)) == 200
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing(ahead=9)) == 200


# Built when each test runs, not when the module is collected: a suite can reach this file
# minutes after collection, and an `until` made then would no longer be ahead.
@pytest.mark.parametrize(
    "make_fields",
    [
        pytest.param(lambda: {**_typing(), "body": {"stringValue": "x"}}, id="an_extra_field"),
        pytest.param(lambda: {"members": _members("11", "22")}, id="no_until"),
        pytest.param(lambda: {"until": _in(5)}, id="no_members"),
        pytest.param(lambda: _typing(("11", "22", "33")), id="three_members"),
        pytest.param(lambda: _typing(("11",)), id="one_member"),
        pytest.param(lambda: _typing(("22", "33")), id="members_without_the_writer"),
        pytest.param(
            lambda: {"members": {"stringValue": "11"}, "until": _in(5)}, id="members_not_a_list"
        ),
        pytest.param(
            lambda: {"members": _members("11", "22"), "until": {"stringValue": "soon"}},
            id="until_not_a_timestamp",
        ),
        pytest.param(lambda: _typing(ahead=60), id="until_more_than_10_s_ahead"),
    ],
)
def test_a_typing_document_must_have_exactly_its_two_fields_in_shape(
    emulator: Emulator, make_fields: Callable[[], dict[str, Any]]
) -> None:
    fields = make_fields()
    assert emulator.write_fields("chats/c1/typing/11", "11", fields) == 403
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing()) == 200
    assert emulator.write_fields("chats/c1/typing/11", "11", fields) == 403  # nor an update


@pytest.mark.parametrize("uid", ["22", "33", None], ids=["the_peer", "outsider", "anonymous"])
def test_nobody_writes_another_users_typing_document(emulator: Emulator, uid: str | None) -> None:
    assert emulator.write_fields("chats/c1/typing/11", uid, _typing()) == 403
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing()) == 200
    assert emulator.write_fields("chats/c1/typing/11", uid, _typing()) == 403


def test_a_typing_document_is_never_deleted_from_a_client(emulator: Emulator) -> None:
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing()) == 200
    assert emulator.delete("chats/c1/typing/11", "11") == 403
    assert emulator.delete("chats/c1/typing/11", "22") == 403


def test_members_read_typing_documents_and_others_do_not(emulator: Emulator) -> None:
    assert emulator.write_fields("chats/c1/typing/11", "11", _typing()) == 200
    assert emulator.get("chats/c1/typing/11", "22") == 200
    assert emulator.get("chats/c1/typing/11", "11") == 200
    assert emulator.get("chats/c1/typing/11", "33") == 403
    assert emulator.get("chats/c1/typing/11", None) == 403
    assert emulator.get("chats/c1/typing/22", "11") == 404  # not typing yet: allowed, absent
    assert emulator.get("chats/c1/typing/22", None) == 403
