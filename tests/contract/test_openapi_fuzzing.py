"""Both services' OpenAPI documents, fuzzed against the running services: generated requests,
valid and invalid, get no 5xx, and every answer is one the document declares, with the
declared content type and a body that matches the declared schema."""

import json
from typing import Any

import httpx
import pytest
import schemathesis

from auth_service.main import create_app as create_auth_app
from auth_service.settings import AuthSettings
from auth_validator import JwtSettings
from chat_service.chats.service import chat_id_for
from chat_service.main import create_app as create_chat_app
from chat_service.settings import ChatSettings

SEED = 20_240_611
# Examples per operation in the fuzzing phase; the examples and coverage phases add their
# boundary values on top. The module takes about a minute and a half on two shared cores,
# starting the services included.
MAX_EXAMPLES = 40
# Left out: `negative_data_rejection`, because the services ignore unknown query parameters
# on purpose, and the test adds our token also where the fuzzer meant to leave it out;
# `positive_data_acceptance`, because valid ids of chats and users that do not exist are
# rightly a 404.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
# Signed up first in the fresh database, so their ids are known before the services run.
USERNAMES = ["contract_first", "contract_second"]
PASSWORD = "contract-password"
USER_IDS = [1, 2]
CHAT_ID = str(chat_id_for(*map(str, USER_IDS)))

# The documents come from the apps built here, with no I/O, because schemathesis must have
# them while pytest collects the tests (its loader from a fixture does not run on pytest 9).
# The first test below proves that the running services serve exactly these documents.
_JWT = JwtSettings(app_env="test", secret="contract-" * 4)
AUTH_DOCUMENT = create_auth_app(
    AuthSettings(app_env="test", jwt=_JWT, firebase_auth_emulator_host="127.0.0.1:9099")
).openapi()
CHAT_DOCUMENT = create_chat_app(ChatSettings(app_env="test", jwt=_JWT)).openapi()


def _schema(document: dict[str, Any], parameters: dict[str, list[Any]]) -> Any:
    """Deterministic generation, the checks above only, and the real ids of `parameters` in
    half of the requests that take one, so the fuzzer gets past the 404s."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "deterministic": True, "max-examples": MAX_EXAMPLES},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "dictionaries": {name: {"values": values} for name, values in parameters.items()},
            "parameters": {name: {"dictionary": name, "probability": 0.5} for name in parameters},
        }
    )
    return schemathesis.openapi.from_dict(document, config=config)


auth = _schema(
    AUTH_DOCUMENT,
    {"path.user_id": USER_IDS, "body.username": USERNAMES[:1], "body.password": [PASSWORD]},
)
chat = _schema(
    CHAT_DOCUMENT,
    {
        "path.chat_id": [CHAT_ID],
        "body.chat_id": [CHAT_ID],
        # The first user is the caller; the second is the one they may write to.
        "body.to_user": [str(USER_IDS[1])],
        "body.users_id[*]": [str(user_id) for user_id in USER_IDS],
    },
)


@pytest.fixture(scope="module")
def bearer(services: Any) -> dict[str, str]:
    """The first user's token, after both users are signed up and their chat is open."""
    with httpx.Client(timeout=30) as client:
        for username, user_id in zip(USERNAMES, USER_IDS, strict=True):
            created = client.post(
                f"{services.auth_url}/auth/api/v1/users/",
                json={"username": username, "password": PASSWORD},
            )
            assert (created.status_code, created.json()["id"]) == (201, user_id), created.text
        login = client.post(
            f"{services.auth_url}/auth/api/v1/login/",
            data={"username": USERNAMES[0], "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        chat = client.post(
            f"{services.chat_url}/chat/api/v1/chat/",
            json={"users_id": [str(user_id) for user_id in USER_IDS]},
            headers=headers,
        )
        assert (chat.status_code, chat.json()["chat_id"]) == (201, CHAT_ID), chat.text
    return headers


def test_the_running_services_serve_the_fuzzed_documents(services: Any) -> None:
    for url, document in (
        (f"{services.auth_url}/auth/api/openapi.json", AUTH_DOCUMENT),
        (f"{services.chat_url}/chat/api/openapi.json", CHAT_DOCUMENT),
    ):
        assert httpx.get(url).json() == json.loads(json.dumps(document)), url


@auth.parametrize()
def test_auth_service_answers_as_documented(
    case: schemathesis.Case, services: Any, bearer: dict[str, str]
) -> None:
    case.call_and_validate(base_url=services.auth_url, headers=bearer, timeout=30)


@chat.parametrize()
def test_chat_service_answers_as_documented(
    case: schemathesis.Case, services: Any, bearer: dict[str, str]
) -> None:
    case.call_and_validate(base_url=services.chat_url, headers=bearer, timeout=30)


def test_both_documents_describe_errors_alike() -> None:
    shared = ("ErrorBody", "HTTPValidationError", "ValidationError")
    auth_schemas, chat_schemas = (
        document["components"]["schemas"] for document in (AUTH_DOCUMENT, CHAT_DOCUMENT)
    )
    assert {name: auth_schemas[name] for name in shared} == {
        name: chat_schemas[name] for name in shared
    }
