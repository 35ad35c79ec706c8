"""The floor of a send and of a history page: the smallest honest implementation of each
promise on the same stack, served beside the real chat service in every `send_wrk.py` and
`history_wrk.py` run, so their tables show how far the service is from what this stack can
do, not only from the previous build.

A send. What it keeps of the promise: the same JWT check, the sender must be a member of the
chat and the recipient the other member (the chat read once, then cached), the message is
stored in Cassandra (one prepared INSERT into `messages`, in its bucket, with the message's
own time as write timestamp) and published to `chat_messages` as a `MessageEvent` by an
idempotent producer with acks from all in-sync replicas, and only then answered 201. So an
acknowledged message is durable, in history and reaches Firestore through the same
aggregator and consumer.

What it leaves out, and the service pays for: the idempotency claim of `client_message_id`
(a repeat is a second message here), the rate and repeated-body limits (Redis), the chat list's
latest message and read mark, the bucket index row, FastAPI's routing, validation, dependency
injection and middlewares (request metrics, size caps), OpenAPI-shaped errors.

A history page (GET .../chat/{chat_id}/messages/?quantity=&time=). What it keeps: the same JWT
check, the caller must be a member (the chat read once, then cached, as the service caches
it), `quantity` 1-100 and a version-1 `time` cursor, the page read by the same prepared SELECT
in the cursor's bucket (or, without a cursor, the newest bucket a message can be in), older
buckets from the bucket index only when that one does not fill the page, rows decoded by the
same driver and row factory, and the same JSON, written by the service's own functions (its
direct route writes pages this way too): `message_fields` (a deleted message's body as "", an
edit's exact time) and `page_json` (every field of `ChatMessage` in its order and format);
`history_wrk.py` checks that the floor's pages equal the service's byte for byte. What it
leaves out: FastAPI's routing, query and response validation, dependency injection, the
middlewares and their request metrics, OpenAPI-shaped 422s.

    python bench/floor/floor_service.py serve --port 9200   (the chat service's environment)
"""

import argparse
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from aiokafka import AIOKafkaProducer
from pydantic_core import to_json

from auth_validator import InvalidToken, JwtSettings, TokenVerifier
from chat_events import (
    ChatMessage,
    MessageEvent,
    new_timeuuid,
    timeuuid_datetime,
)
from chat_service.buckets import bucket_of, bucket_of_timeuuid
from chat_service.database import Row, Statements, connect, write_timestamp
from chat_service.messages.repository import message_fields
from chat_service.messages.schemas import page_json
from chat_service.settings import ChatSettings, Consistency

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_SEND_PATH = "/chat/api/v1/messaging/"
_HEALTH_PATH = "/chat/api/health/"
_HISTORY_PATH = re.compile(r"/chat/api/v1/chat/([^/]+)/messages/?")
_PAGE = (
    "SELECT chat_id, time, message_id, from_user, to_user, body, client_message_id, edited_at, "
    "deleted, revision FROM {ks}.messages WHERE chat_id = ? AND bucket = ?"
)
# How far ahead another replica's clock may run (as the service assumes).
_CLOCK_SKEW = timedelta(minutes=5)
_BUCKETS_PER_READ = 8


class Floor:
    """A bare ASGI app: the lifespan connects, each POST is one INSERT and one publish."""

    def __init__(self) -> None:
        self.settings = ChatSettings()
        self.verifier = TokenVerifier(JwtSettings())
        self.members: dict[uuid.UUID, list[str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["path"] == _SEND_PATH and scope["method"] == "POST":
            status, answer = await self._send_message(scope, await _body(receive))
            await _answer(send, status, answer)
        elif scope["method"] == "GET" and (found := _HISTORY_PATH.fullmatch(scope["path"])):
            status, page = await self._history(scope, found.group(1))
            await _answer(send, status, page)
        elif scope["path"] == _HEALTH_PATH:
            await _answer(send, 200, {"status": "ok"})
        else:
            await _answer(send, 404, {"detail": "Not found.", "code": "not_found"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        self.session = await connect(self.settings)
        self.statements = Statements(self.session)
        await self.statements.prepare(
            {
                "insert": (
                    "INSERT INTO {ks}.messages (bucket, chat_id, time, message_id, from_user, "
                    "to_user, body, client_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "USING TIMESTAMP ?",
                    self.settings.write_consistency,
                ),
                "chat": (
                    "SELECT users_id FROM {ks}.chats WHERE chat_id = ?",
                    self.settings.read_consistency,
                ),
                **self._history_queries(),
            },
            self.settings.keyspace,
            self.settings.write_consistency,
        )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            enable_idempotence=True,
            acks="all",
            linger_ms=int(self.settings.kafka_linger.total_seconds() * 1000),
        )
        await self.producer.start()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await self.producer.stop()
        await self.session.close()
        await send({"type": "lifespan.shutdown.complete"})

    async def _send_message(self, scope: Scope, raw: bytes) -> tuple[int, dict[str, Any]]:
        headers = dict(scope["headers"])
        try:
            caller = self.verifier.verify(
                headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
            )
            request = json.loads(raw)
            chat_id = uuid.UUID(request["chat_id"])
            body = str(request["body"]).strip()
        except InvalidToken:
            return 401, {"detail": "Invalid token.", "code": "invalid_token"}
        except (ValueError, KeyError, TypeError):
            return 422, {"detail": "Malformed message.", "code": "invalid_request"}
        if not 0 < len(body) <= 4000:
            return 422, {"detail": "body must be 1-4000 characters.", "code": "invalid_request"}
        members = await self._members(chat_id)
        if members is None or caller.user_id not in members:
            return 403, {"detail": "Not a member.", "code": "not_a_member"}
        to_user = members[1] if members[0] == caller.user_id else members[0]
        if str(request.get("to_user")) != to_user:
            return 422, {"detail": "to_user must be the other member.", "code": "invalid_request"}
        message = _message(chat_id, caller.user_id, to_user, body, request.get("client_message_id"))
        bucket = bucket_of_timeuuid(message.time, self.settings.bucket_days)
        await self.statements.run(
            "insert", bucket, chat_id, message.time, message.message_id, message.from_user,
            message.to_user, message.body, message.client_message_id,
            write_timestamp(message.time),
        )  # fmt: skip
        event = MessageEvent.of(message, members)
        await self.producer.send_and_wait(
            self.settings.messages_topic,
            key=str(chat_id).encode(),
            value=event.model_dump_json().encode(),
        )
        return 201, message.model_dump(mode="json")

    def _history_queries(self) -> dict[str, tuple[str, Consistency | None]]:
        read = self.settings.read_consistency
        return {
            "page_newest": (_PAGE + " LIMIT ?", read),
            "page_before": (_PAGE + " AND time < ? LIMIT ?", read),
            "buckets": (
                "SELECT bucket FROM {ks}.chat_buckets WHERE chat_id = ? AND bucket <= ? LIMIT ?",
                read,
            ),
        }

    async def _history(self, scope: Scope, chat: str) -> tuple[int, Any]:
        headers = dict(scope["headers"])
        query = parse_qs(scope["query_string"].decode())
        try:
            caller = self.verifier.verify(
                headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
            )
            chat_id = uuid.UUID(chat)
            quantity = int(query.get("quantity", ["10"])[0])
            before = uuid.UUID(query["time"][0]) if "time" in query else None
        except InvalidToken:
            return 401, {"detail": "Invalid token.", "code": "invalid_token"}
        except ValueError:
            return 422, {"detail": "Malformed query.", "code": "invalid_request"}
        if not 1 <= quantity <= 100 or (before is not None and before.version != 1):
            return 422, {"detail": "Malformed query.", "code": "invalid_request"}
        members = await self._members(chat_id)
        if members is None:
            return 404, {"detail": "Chat not found.", "code": "chat_not_found"}
        if caller.user_id not in members:
            return 403, {"detail": "Not a member.", "code": "not_a_member"}
        rows = await self._page(chat_id, before, quantity)
        return 200, page_json([message_fields(row) for row in rows])

    async def _page(self, chat_id: uuid.UUID, before: uuid.UUID | None, quantity: int) -> list[Row]:
        """The cursor's bucket (or the newest a message can be in) first: it usually holds the
        whole page. Older non-empty buckets come from the index only while the page is short."""
        bucket = self._first_bucket(before)
        rows = await self._rows(chat_id, bucket, before, quantity)
        while len(rows) < quantity:
            found = await self.statements.run("buckets", chat_id, bucket - 1, _BUCKETS_PER_READ)
            for bucket in (row["bucket"] for row in found):
                rows += await self._rows(chat_id, bucket, before, quantity - len(rows))
                if len(rows) == quantity:
                    break
            if len(found) < _BUCKETS_PER_READ:
                break
        return rows

    def _first_bucket(self, before: uuid.UUID | None) -> int:
        """The cursor's bucket, or the newest one a message can be in: its time on the clock
        that runs furthest ahead."""
        if before is not None:
            return bucket_of_timeuuid(before, self.settings.bucket_days)
        return bucket_of(datetime.now(UTC) + _CLOCK_SKEW, self.settings.bucket_days)

    async def _rows(
        self, chat_id: uuid.UUID, bucket: int, before: uuid.UUID | None, limit: int
    ) -> list[Row]:
        if before is None:
            return await self.statements.run("page_newest", chat_id, bucket, limit)
        return await self.statements.run("page_before", chat_id, bucket, before, limit)

    async def _members(self, chat_id: uuid.UUID) -> list[str] | None:
        if chat_id not in self.members:
            rows = await self.statements.run("chat", chat_id)
            if not rows:
                return None
            self.members[chat_id] = list(rows[0]["users_id"])
        return self.members[chat_id]


def _message(
    chat_id: uuid.UUID, sender: str, to_user: str, body: str, client_message_id: object
) -> ChatMessage:
    time = new_timeuuid()
    return ChatMessage(
        message_id=uuid.uuid5(time, "message"),
        chat_id=chat_id,
        from_user=sender,
        to_user=to_user,
        body=body,
        time=time,
        time_iso=timeuuid_datetime(time),
        client_message_id=None if client_message_id is None else str(client_message_id),
    )


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        event = await receive()
        chunks.append(event.get("body", b""))
        if not event.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, document: Any) -> None:
    # Compact UTF-8 from pydantic's Rust core, as FastAPI writes its answers: the same bytes
    # on the wire, and no slower than the service's own serialiser (a page comes written).
    payload = document if isinstance(document, bytes) else to_json(document)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve until SIGTERM")
    serve.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    uvicorn.run(Floor(), host="127.0.0.1", port=options.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
