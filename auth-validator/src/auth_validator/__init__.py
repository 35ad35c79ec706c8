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
    ContentTooLarge,
    Forbidden,
    HeadersTooLarge,
    InvalidInput,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    install_error_handlers,
    render_error,
)
from auth_validator.openapi import ErrorBody, error_response
from auth_validator.request_size import limit_request_bodies, limit_request_headers
from auth_validator.settings import JwtSettings
from auth_validator.tokens import Principal, TokenVerifier, issue_access_token

__all__ = [
    "ApiError",
    "Conflict",
    "ContentTooLarge",
    "CurrentPrincipal",
    "CurrentUser",
    "ErrorBody",
    "Forbidden",
    "HeadersTooLarge",
    "InvalidInput",
    "InvalidToken",
    "JwtSettings",
    "NotAuthenticated",
    "NotFound",
    "Principal",
    "RateLimited",
    "ServiceUnavailable",
    "TokenVerifier",
    "current_principal",
    "error_response",
    "get_token_verifier",
    "install_error_handlers",
    "install_token_verifier",
    "issue_access_token",
    "limit_request_bodies",
    "limit_request_headers",
    "render_error",
]
