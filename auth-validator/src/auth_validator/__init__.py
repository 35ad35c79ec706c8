"""Verifies access tokens; FastAPI dependency for the current user."""

from auth_validator.dependencies import (
    CurrentPrincipal,
    CurrentUser,
    current_principal,
    get_token_verifier,
    install_token_verifier,
    principal_of,
)
from auth_validator.settings import JwtSettings, TokenServiceSettings
from auth_validator.tokens import InvalidToken, Principal, TokenVerifier, issue_access_token

__all__ = [
    "CurrentPrincipal",
    "CurrentUser",
    "InvalidToken",
    "JwtSettings",
    "Principal",
    "TokenServiceSettings",
    "TokenVerifier",
    "current_principal",
    "get_token_verifier",
    "install_token_verifier",
    "issue_access_token",
    "principal_of",
]
