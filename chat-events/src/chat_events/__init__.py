"""The event contract: Kafka payloads of every kind, their decoders, TimeUUIDs, user ids and
topic names shared by the chat service, the aggregator and the consumer."""

from chat_events.changes import MessageChange, ReadMark
from chat_events.events import (
    ChatEvent,
    EventRejected,
    GroupedRecord,
    decode_chat_event,
    decode_grouped_record,
)
from chat_events.payloads import (
    Burst,
    ChatMessage,
    IsoTime,
    MessageEvent,
    burst_from_messages,
    iso_with_offset,
)
from chat_events.timeuuid import (
    is_timeuuid,
    new_timeuuid,
    timeuuid_at,
    timeuuid_datetime,
    timeuuid_sort_key,
)
from chat_events.topics import CHAT_MESSAGES, CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED
from chat_events.users import UserId
from chat_events.versions import EVENT_VERSION

__all__ = [
    "CHAT_MESSAGES",
    "CHAT_MESSAGES_DEAD_LETTER",
    "CHAT_MESSAGES_GROUPED",
    "EVENT_VERSION",
    "Burst",
    "ChatEvent",
    "ChatMessage",
    "EventRejected",
    "GroupedRecord",
    "IsoTime",
    "MessageChange",
    "MessageEvent",
    "ReadMark",
    "UserId",
    "burst_from_messages",
    "decode_chat_event",
    "decode_grouped_record",
    "is_timeuuid",
    "iso_with_offset",
    "new_timeuuid",
    "timeuuid_at",
    "timeuuid_datetime",
    "timeuuid_sort_key",
]
