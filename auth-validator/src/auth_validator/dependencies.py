"""FastAPI dependencies: the current principal from the `Authorization: Bearer` header.

The service creates one `TokenVerifier` at start-up and stores it as
`app.state.token_verifier` (see `install_token_verifier`); verifying is then pure CPU work.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from auth_validator.tokens import InvalidToken, Principal, TokenVerifier
from http_kit import NotAuthenticated

# auto_error=False: a missing header is reported by us, as a 401 with our error body,
# instead of FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="Access token from the auth service login.")


def install_token_verifier(app: FastAPI, verifier: TokenVerifier) -> None:
    """Makes `verifier` the one that `current_principal` uses for this app."""
    app.state.token_verifier = verifier


# Verification is one HMAC (or RSA) check and no I/O: `async def` keeps it on the event loop
# instead of a threadpool hop on every request.
async def get_token_verifier(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("no TokenVerifier installed; call install_token_verifier(app, ...)")
    return verifier


def principal_of(scope: Scope) -> Principal | None:
    """The caller a request's bearer token names, or None when it names nobody valid: for
    code that answers before FastAPI's dependencies run (`http_kit.serve_directly`), which
    hands such a request to the route, where `current_principal` refuses it."""
    verifier = getattr(scope["app"].state, "token_verifier", None)
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return None
            if not isinstance(verifier, TokenVerifier):
                return None  # the route's dependency says what is wrong
            try:
                return verifier.verify(token)
            except InvalidToken:
                return None
    return None


async def current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    verifier: Annotated[TokenVerifier, Depends(get_token_verifier)],
) -> Principal:
    """The caller named by a valid bearer token; 401 with `WWW-Authenticate: Bearer` otherwise."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated()
    return verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentUser = CurrentPrincipal
