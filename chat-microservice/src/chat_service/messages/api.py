"""HTTP endpoints for sending, editing and deleting messages and reading history."""

import uuid
from typing import Annotated

from fastapi import Path, Query, Response, status
from pydantic import ValidationError
from starlette.types import Scope

from auth_validator import CurrentUser, principal_of
from chat_events import ChatMessage
from chat_service.deps import MessageServiceDep, Resources
from chat_service.errors import ERRORS
from chat_service.messages.schemas import EditMessage, SendMessage, TimeUuid
from http_kit import SlashOptionalRouter, resources_of

router = SlashOptionalRouter(prefix="/v1", tags=["messages"])


@router.get("/chat/{chat_id}/messages/", responses=ERRORS.responses(401, 403, 404, 503))
async def chat_history(
    chat_id: uuid.UUID,
    caller: CurrentUser,
    messages: MessageServiceDep,
    quantity: Annotated[int, Query(ge=1, le=100)] = 10,
    time: Annotated[
        TimeUuid | None,
        Query(description="TimeUUID cursor: only messages strictly older are returned."),
    ] = None,
) -> list[ChatMessage]:
    """A page of history, newest first; `[]` when there is nothing older."""
    return await messages.history(caller, chat_id, time, quantity)


@router.post(
    "/messaging/",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS.responses(
        401, 403, 404, 409, 429, 503, ok=(ChatMessage, "Repeat of a client_message_id.")
    ),
)
async def send_message(
    outgoing: SendMessage, caller: CurrentUser, messages: MessageServiceDep, response: Response
) -> ChatMessage:
    """Send a message: 201 once it is stored and published, 200 for a repeated
    client_message_id (the same message again)."""
    created, message = await messages.send(caller, outgoing)
    if not created:
        response.status_code = status.HTTP_200_OK
    return message


async def send_message_directly(scope: Scope, body: bytes) -> Response | None:
    """`send_message` without FastAPI's layers (`http_kit.serve_directly`), answering the
    same. A request without a valid token, with a body that is not JSON or that `SendMessage`
    refuses goes to `send_message`, which writes the documented 401 or 422."""
    caller = principal_of(scope)
    if caller is None or not _json_body(scope):
        return None
    try:
        outgoing = SendMessage.model_validate_json(body)
    except ValidationError:
        return None
    messages = resources_of(scope["app"], Resources).messages
    created, message = await messages.send(caller, outgoing)
    status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(message.model_dump_json(), status_code, media_type="application/json")


def _json_body(scope: Scope) -> bool:
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    return content_type.split(b";")[0].strip().lower() == b"application/json"


_MESSAGE_TIME = Path(description="TimeUUID of the message (its `time`, the history cursor).")


@router.patch(
    "/chat/{chat_id}/messages/{time}", responses=ERRORS.responses(401, 403, 404, 409, 429, 503)
)
async def edit_message(
    chat_id: uuid.UUID,
    time: Annotated[TimeUuid, _MESSAGE_TIME],
    edit: EditMessage,
    caller: CurrentUser,
    messages: MessageServiceDep,
) -> ChatMessage:
    """Edit your message: its current state once stored and published."""
    return await messages.edit(caller, chat_id, time, edit)


@router.delete(
    "/chat/{chat_id}/messages/{time}", responses=ERRORS.responses(401, 403, 404, 429, 503)
)
async def delete_message(
    chat_id: uuid.UUID,
    time: Annotated[TimeUuid, _MESSAGE_TIME],
    caller: CurrentUser,
    messages: MessageServiceDep,
) -> ChatMessage:
    """Delete your message for good: the tombstone once stored and published."""
    return await messages.delete(caller, chat_id, time)
