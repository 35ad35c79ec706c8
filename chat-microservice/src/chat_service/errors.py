"""The chat service's expected failures, all rendered as `{"detail", "code"}`, and how its
endpoints list them in the OpenAPI document."""

from http_kit import (
    Conflict,
    ErrorCatalogue,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    error_response,
)


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


class NotTheAuthor(Forbidden):
    code = "not_the_author"
    detail = "Only the author can change a message."


class MessageNotFound(NotFound):
    code = "message_not_found"
    detail = "Message not found."


class MessageDeleted(Conflict):
    code = "message_deleted"
    detail = "The message was deleted; it cannot be edited."


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


class ChangeRateLimited(RateLimited):
    code = "change_rate_limited"
    detail = "You are editing or deleting too fast; slow down."


# One description per status; where a status has several codes, the others are named in it.
ERRORS = ErrorCatalogue(
    {
        401: error_response(
            "invalid_token", "Missing (`not_authenticated`), invalid or expired token."
        ),
        403: error_response(
            "not_a_member",
            "Not a member, acting as someone else (`not_your_identity`), or changing "
            "another member's message (`not_the_author`).",
        ),
        404: error_response(
            "chat_not_found",
            "Unknown chat, unknown user (`user_not_found`) or unknown message "
            "(`message_not_found`).",
        ),
        409: error_response(
            "client_message_id_reused",
            "client_message_id reused for a different message, or an edit of a deleted "
            "message (`message_deleted`).",
        ),
        429: error_response(
            "send_rate_limited",
            "Rate limited (also `repeated_body`, `change_rate_limited`); see Retry-After.",
        ),
        503: error_response(
            "cassandra_unavailable",
            "Cassandra, Kafka or the auth service is down (`kafka_unavailable`, "
            "`auth_service_unavailable`); see Retry-After.",
        ),
    }
)
