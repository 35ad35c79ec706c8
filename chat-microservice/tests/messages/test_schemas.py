import uuid

import pytest
from pydantic import ValidationError

from chat_service.chats.schemas import ChatCreate
from chat_service.messages.schemas import SendMessage


def _send(body: str, **extra: object) -> SendMessage:
    return SendMessage.model_validate(
        {"chat_id": str(uuid.uuid4()), "to_user": "2", "body": body, **extra}
    )


def test_body_is_trimmed() -> None:
    assert _send("  hello\n").body == "hello"


def test_newline_and_tab_are_allowed_inside_the_body() -> None:
    assert _send("a\tb\nc").body == "a\tb\nc"


@pytest.mark.parametrize(
    "body",
    ["", "   ", "\n\t ", "x" * 4001, "a\x00b", "a\x1bb", "a\rb", "a\x7fb", "a\u0085b", "a\ud800b"],
)
def test_bad_bodies_are_rejected(body: str) -> None:
    with pytest.raises(ValidationError):
        _send(body)


def test_a_body_of_4000_characters_after_trimming_is_accepted() -> None:
    assert len(_send("  " + "é" * 4000 + "  ").body) == 4000


def test_numeric_ids_are_accepted_as_text() -> None:
    message = _send("hi", from_user=1)
    assert (message.to_user, message.from_user) == ("2", "1")


@pytest.mark.parametrize("field", ["to_user", "from_user"])
@pytest.mark.parametrize("value", ["alice", "1" * 20, "", " 2", "-2"])
def test_user_ids_follow_the_same_rule_as_a_new_chat(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        _send("hi", **{field: value})
    with pytest.raises(ValidationError):
        ChatCreate.model_validate({"users_id": ["1", value]})


@pytest.mark.parametrize("key", ["", "has space", "x" * 101])
def test_bad_client_message_ids_are_rejected(key: str) -> None:
    with pytest.raises(ValidationError):
        _send("hi", client_message_id=key)
