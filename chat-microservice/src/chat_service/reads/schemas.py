"""Request and response bodies of the read-mark endpoint."""

import uuid

from pydantic import BaseModel, Field

from chat_events import IsoTime
from chat_service.messages.schemas import TimeUuid


class ReadUpTo(BaseModel):
    up_to: TimeUuid = Field(
        description="TimeUUID of the newest message read (its `time`); not in the future."
    )


class ReadState(BaseModel):
    """The caller's read mark of a chat: the highest known, written or still pending."""

    chat_id: uuid.UUID
    up_to: uuid.UUID = Field(description="TimeUUID of the newest message read.")
    up_to_iso: IsoTime
