"""Verifies access tokens; FastAPI dependency for the current user; shared API errors."""

from auth_validator.dependencies import (
    CurrentPrincipal,
    CurrentUser,
    current_principal,
    get_token_verifier,
    install_token_verifier,
)
from auth_validator.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    install_error_handlers,
)
from auth_validator.settings import JwtSettings
from auth_validator.tokens import Principal, TokenVerifier, issue_access_token

__all__ = [
    "ApiError",
    "Conflict",
    "CurrentPrincipal",
    "CurrentUser",
    "Forbidden",
    "InvalidToken",
    "JwtSettings",
    "NotAuthenticated",
    "NotFound",
    "Principal",
    "RateLimited",
    "ServiceUnavailable",
    "TokenVerifier",
    "current_principal",
    "get_token_verifier",
    "install_error_handlers",
    "install_token_verifier",
    "issue_access_token",
]
