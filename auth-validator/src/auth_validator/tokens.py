"""Issuing and verifying access tokens (the claims are listed in this package's README).
No network calls."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cachetools import LRUCache
from jose import jwt
from jose.exceptions import JOSEError

from auth_validator.settings import JwtSettings
from http_kit import NotAuthenticated

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret


class InvalidToken(NotAuthenticated):
    """A bearer token that is malformed, expired, forged or meant for someone else."""

    code = "invalid_token"
    detail = "Invalid or expired token."


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as the token names them."""

    user_id: str
    username: str


def issue_access_token(
    settings: JwtSettings,
    *,
    user_id: str,
    username: str,
    lifetime: timedelta,
    session_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Signs an access token for the user, valid for `lifetime` from `now`, with the signing
    key's id as its `kid` header and the session, when given, as its `sid` claim."""
    issued_at = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "user_id": user_id,
        "username": username,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
        "iss": settings.issuer,
        "aud": settings.audience,
        "type": ACCESS_TOKEN_TYPE,
    }
    if session_id is not None:
        claims["sid"] = session_id
    token: str = jwt.encode(
        claims,
        settings.signing_key,
        algorithm=settings.algorithm,
        headers={"kid": settings.signing_kid},
    )
    return token


UNKNOWN_KEY_DETAIL = "Token signed with a key this service does not accept."

# How many verified tokens a verifier remembers (a few MB at most).
VERIFIED_TOKENS = 10_000


class TokenVerifier:
    """Checks signature (pinned algorithm), `exp`, `iat`, `iss`, `aud`, `type` and the ids."""

    def __init__(self, settings: JwtSettings) -> None:
        # Every key a token may name in its `kid` header; a token without one was issued
        # before key ids existed and is checked with the single key (`JWT_KEY_ID`), if that
        # is still configured.
        self._keys = settings.verification_keys
        self._default_key_id = settings.key_id
        # One pinned algorithm: a token whose header names another (`none`, or HS256 signed
        # with an RSA public key as the HMAC secret) is refused before any key is used.
        self._algorithms = [settings.algorithm]
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._leeway = int(settings.leeway.total_seconds())
        # Claims of tokens whose signature and claims checked out. A client sends the same
        # token on every request until it expires, and checking its signature again costs
        # more than a history page; the lifetime is still checked on every call.
        self._verified: LRUCache[str, dict[str, Any]] = LRUCache(maxsize=VERIFIED_TOKENS)

    def verify(self, token: str, *, now: datetime | None = None) -> Principal:
        """The principal named by a valid token; `InvalidToken` for anything else."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verified[token] = self._decode(token)
        self._check_lifetime(claims, (now or datetime.now(UTC)).timestamp())
        return _principal_from(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        options = {
            "require_iat": True,
            "require_iss": True,
            "require_aud": True,
            "require_sub": True,
            # `exp` is required and checked in _check_lifetime, against an injectable clock
            # (python-jose reads the wall clock, and `require_exp` would switch that back on).
            "verify_exp": False,
            "leeway": self._leeway,
        }
        key = self._key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options=options,
            )
        except (JOSEError, ValueError, TypeError) as exc:
            raise InvalidToken() from exc
        return claims

    def _key_for(self, token: str) -> str:
        try:
            key_id = jwt.get_unverified_header(token).get("kid", self._default_key_id)
        except (JOSEError, ValueError, TypeError, AttributeError) as exc:
            raise InvalidToken() from exc
        key = self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            # A key removed from the set (rotated out), or one this service was never given.
            raise InvalidToken(UNKNOWN_KEY_DETAIL)
        return key

    def _check_lifetime(self, claims: dict[str, Any], now: float) -> None:
        issued_at, expires_at = _timestamp(claims.get("iat")), _timestamp(claims.get("exp"))
        if expires_at <= now - self._leeway:
            raise InvalidToken("Token has expired.", code="token_expired")
        # python-jose only checks that `iat` is a number. A token "issued" in the future
        # comes from a bad clock or a forger; beyond the allowed skew it is refused.
        if issued_at > now + self._leeway:
            raise InvalidToken()


def _timestamp(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken()
    return float(value)


def _principal_from(claims: dict[str, Any]) -> Principal:
    user_id, username = claims.get("user_id"), claims.get("username")
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise InvalidToken()
    if not isinstance(user_id, str) or not user_id or claims.get("sub") != user_id:
        raise InvalidToken()
    if not isinstance(username, str) or not username:
        raise InvalidToken()
    return Principal(user_id=user_id, username=username)
