"""The auth service's expected failures, all rendered as `{"detail", "code"}`. A dependency
that is down (Postgres, the rate-limit store) is an `http_kit.Dependency`'s 503 instead."""

from http_kit import Conflict, NotAuthenticated, NotFound, ServiceUnavailable


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
