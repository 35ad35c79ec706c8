"""HTTP endpoints for sending, editing and deleting messages and reading history."""

import uuid
from typing import Annotated

from fastapi import Path, Query, Response, status

from auth_validator import CurrentUser
from chat_events import ChatMessage
from chat_service.deps import MessageServiceDep
from chat_service.errors import ERRORS
from chat_service.messages.schemas import EditMessage, SendMessage, TimeUuid
from http_kit import SlashOptionalRouter

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
