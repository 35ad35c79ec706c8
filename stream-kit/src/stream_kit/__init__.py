"""Shared stream service kit (filled in by the refactor)."""
