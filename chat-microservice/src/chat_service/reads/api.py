"""HTTP endpoint for read marks."""

import uuid

from auth_validator import CurrentUser
from chat_service.deps import ReadServiceDep
from chat_service.errors import ERRORS
from chat_service.reads.schemas import ReadState, ReadUpTo
from http_kit import SlashOptionalRouter

router = SlashOptionalRouter(prefix="/v1", tags=["reads"])


@router.post("/chat/{chat_id}/read", responses=ERRORS.responses(401, 403, 404, 503))
async def mark_read(
    chat_id: uuid.UUID, read: ReadUpTo, caller: CurrentUser, reads: ReadServiceDep
) -> ReadState:
    """Mark the chat read up to a message: the highest mark known (it never moves back)."""
    return await reads.mark(caller, chat_id, read)
