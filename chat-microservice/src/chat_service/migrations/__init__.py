"""Versioned, idempotent schema steps for the chat keyspace."""

from chat_service.migrations.runner import applied_versions, migrate, migrate_keyspace
from chat_service.migrations.steps import STEPS, Step

__all__ = ["STEPS", "Step", "applied_versions", "migrate", "migrate_keyspace"]
