"""Default Kafka topic names. Services read the actual names from their settings."""

CHAT_MESSAGES = "chat_messages"
CHAT_MESSAGES_GROUPED = "chat_messages_grouped"
CHAT_MESSAGES_DEAD_LETTER = "chat_messages_grouped_dlq"
