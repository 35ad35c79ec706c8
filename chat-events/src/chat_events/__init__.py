"""Kafka event payloads shared by the chat service, the aggregator and the consumer."""

from chat_events.payloads import (
    Burst,
    ChatMessage,
    IsoTime,
    MessageEvent,
    burst_from_messages,
    iso_with_offset,
)
from chat_events.timeuuid import timeuuid_datetime, timeuuid_sort_key
from chat_events.topics import CHAT_MESSAGES, CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED

__all__ = [
    "CHAT_MESSAGES",
    "CHAT_MESSAGES_DEAD_LETTER",
    "CHAT_MESSAGES_GROUPED",
    "Burst",
    "ChatMessage",
    "IsoTime",
    "MessageEvent",
    "burst_from_messages",
    "iso_with_offset",
    "timeuuid_datetime",
    "timeuuid_sort_key",
]
