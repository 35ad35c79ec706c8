"""The auth service's expected failures, all rendered as `{"detail", "code"}`. A dependency
that is down (Postgres, the rate-limit store) is an `http_kit.Dependency`'s 503 instead."""

from http_kit import ApiError, Conflict, NotAuthenticated, NotFound, ServiceUnavailable


class UsernameTaken(Conflict):
    code = "username_taken"
    detail = "This username is already taken."


class UserNotFound(NotFound):
    code = "user_not_found"
    detail = "No user with this id."


class InvalidCredentials(NotAuthenticated):
    # One text for an unknown user and a wrong password: the answer must not reveal which.
    code = "invalid_credentials"
    detail = "Incorrect username or password."


class FirebaseUnavailable(ServiceUnavailable):
    code = "firebase_unavailable"
    detail = "Could not mint a Firebase token; try again later."


class InvalidRefreshToken(ApiError):
    # One answer for unknown, expired and revoked: which one it was helps nobody but a thief.
    # Not a `NotAuthenticated`: a refresh token is no bearer credential (no WWW-Authenticate).
    status_code = 401
    code = "invalid_refresh_token"
    detail = "The refresh token is unknown, expired or revoked; log in again."


class RefreshTokenReused(ApiError):
    status_code = 401
    code = "refresh_token_reused"
    detail = "This refresh token was already used; the session is revoked. Log in again."
