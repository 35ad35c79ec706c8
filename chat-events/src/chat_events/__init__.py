"""The message contract: Kafka payloads, TimeUUIDs, user ids and topic names shared by the chat
service, the aggregator and the consumer."""

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

__all__ = [
    "CHAT_MESSAGES",
    "CHAT_MESSAGES_DEAD_LETTER",
    "CHAT_MESSAGES_GROUPED",
    "Burst",
    "ChatMessage",
    "IsoTime",
    "MessageEvent",
    "UserId",
    "burst_from_messages",
    "is_timeuuid",
    "iso_with_offset",
    "new_timeuuid",
    "timeuuid_at",
    "timeuuid_datetime",
    "timeuuid_sort_key",
]
