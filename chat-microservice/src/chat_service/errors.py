"""The chat service's expected failures, all rendered as `{"detail", "code"}`."""

from auth_validator import ApiError, Conflict, Forbidden, InvalidInput, NotFound, RateLimited


class ChatNotFound(NotFound):
    code = "chat_not_found"
    detail = "Chat not found."


class UserNotFound(NotFound):
    code = "user_not_found"
    detail = "User not found."


class NotAMember(Forbidden):
    code = "not_a_member"
    detail = "You are not a member of this chat."


class NotYourIdentity(Forbidden):
    code = "not_your_identity"
    detail = "You can only act as yourself."


class InvalidChatRequest(InvalidInput):
    """A well-formed request that breaks a rule of the domain: a 422 like any other."""

    code = "invalid_request"


class ClientMessageIdReused(Conflict):
    code = "client_message_id_reused"
    detail = "This client_message_id was already used for a different message."


class SendRateLimited(RateLimited):
    code = "send_rate_limited"
    detail = "You are sending too fast; slow down."


class RepeatedBody(RateLimited):
    code = "repeated_body"
    detail = "You sent the same message too many times; wait a little."


class DependencyUnavailable(ApiError):
    """Cassandra, Kafka or the auth service failed; the client retries after a pause."""

    status_code = 503
    code = "dependency_unavailable"

    def __init__(self, dependency: str, retry_after_seconds: int) -> None:
        super().__init__(
            f"{dependency} is unavailable; try again later.",
            code=f"{dependency}_unavailable",
            headers={"Retry-After": str(retry_after_seconds)},
        )
