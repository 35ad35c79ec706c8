"""Shared HTTP service kit (filled in by the refactor)."""
