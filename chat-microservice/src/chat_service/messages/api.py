"""HTTP endpoints for sending, editing and deleting messages and reading history."""

import uuid
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Path, Query, Response, status
from pydantic import TypeAdapter, ValidationError
from starlette.types import Scope

from auth_validator import CurrentUser, principal_of
from chat_events import ChatMessage
from chat_service.deps import MessageServiceDep, Resources
from chat_service.errors import ERRORS
from chat_service.messages.schemas import EditMessage, SendMessage, TimeUuid, page_json
from http_kit import SlashOptionalRouter, resources_of

router = SlashOptionalRouter(prefix="/v1", tags=["messages"])

# A history page's size, shared by the route and its direct twin.
_QUANTITY_RANGE = Query(ge=1, le=100)
_DEFAULT_QUANTITY = 10


@router.get("/chat/{chat_id}/messages/", responses=ERRORS.responses(401, 403, 404, 503))
async def chat_history(
    chat_id: uuid.UUID,
    caller: CurrentUser,
    messages: MessageServiceDep,
    quantity: Annotated[int, _QUANTITY_RANGE] = _DEFAULT_QUANTITY,
    time: Annotated[
        TimeUuid | None,
        Query(description="TimeUUID cursor: only messages strictly older are returned."),
    ] = None,
) -> list[ChatMessage]:
    """A page of history, newest first; `[]` when there is nothing older."""
    return await messages.history(caller, chat_id, time, quantity)


async def chat_history_directly(scope: Scope, body: bytes) -> Response | None:
    """`chat_history` without FastAPI's layers (`http_kit.serve_directly`), answering the
    same. A request without a valid token, or with a chat id or query its parameters refuse,
    goes to `chat_history`, which writes the documented 401 or 422."""
    caller = principal_of(scope)
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    try:
        chat_id = _CHAT_ID.validate_python(scope["path_params"]["chat_id"])
        quantity = _QUANTITY.validate_python(query.get("quantity", _DEFAULT_QUANTITY))
        time = query.get("time")
        before = None if time is None else _CURSOR.validate_python(time)
    except ValidationError:
        return None
    if caller is None:
        return None
    messages = resources_of(scope["app"], Resources).messages
    page = await messages.history_fields(caller, chat_id, before, quantity)
    return Response(page_json(page), media_type="application/json")


# The parameters of `chat_history`, validated as FastAPI validates them (the last of
# repeated query parameters counts, as in Starlette's `QueryParams`).
_CHAT_ID = TypeAdapter(uuid.UUID)
_QUANTITY = TypeAdapter(Annotated[int, _QUANTITY_RANGE])
_CURSOR = TypeAdapter(TimeUuid)


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
