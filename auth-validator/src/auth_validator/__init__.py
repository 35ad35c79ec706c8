"""Verifies access tokens; FastAPI dependency for the current user."""
