"""History page latency at depth in a 100,000-message chat: bucketed pages vs the original's
query pattern (COUNT of the whole partition, then a scan from the newest row to the cursor).

Both run in the same process against the same Cassandra, in a throw-away keyspace:

- "bucketed": the chat service's own `MessageService.history` over its schema (cursor's bucket,
  then older listed buckets, LIMIT = page size);
- "original": an unbucketed table `messages_flat ((chat_id), time)` like the original's, read
  the original way: `SELECT COUNT(*)` of the partition, then rows from the newest until the
  cursor is passed, then the page.

    uv run python bench/history_depth.py [--messages 100000] [--samples 200]

Prints a table and writes bench/results/history_depth.json.
"""

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import acsylla
import httpx
from cassandra.cluster import Cluster, Session
from cassandra.query import SimpleStatement, dict_factory
from harness import percentile

from auth_validator import Principal
from chat_events import ChatMessage, timeuuid_at, timeuuid_datetime
from chat_service.auth_client import AuthClient
from chat_service.buckets import bucket_of
from chat_service.chats.repository import ChatRepository
from chat_service.chats.schemas import Chat
from chat_service.chats.service import ChatService, chat_id_for
from chat_service.database import Session as StoreSession
from chat_service.database import connect, execute, prepare
from chat_service.messages.publisher import MessagePublisher
from chat_service.messages.repository import MessageRepository
from chat_service.messages.send_gate import SendGate
from chat_service.messages.service import MessageService
from chat_service.metrics import Metrics
from chat_service.migrations import migrate
from chat_service.rate_limits import SendLimits
from chat_service.settings import ChatSettings

RESULTS = Path(__file__).resolve().parent / "results"
PAGE = 10
IN_FLIGHT = 256
HEADER = (
    f"{'depth':>8} | {'ours p50':>9} {'ours p99':>9} | {'orig p50':>9} {'orig p99':>9} | p99 ratio"
)

FLAT_TABLE = """CREATE TABLE IF NOT EXISTS {ks}.messages_flat (
    chat_id uuid, time timeuuid, message_id uuid, from_user text, to_user text, body text,
    PRIMARY KEY (chat_id, time)
) WITH CLUSTERING ORDER BY (time DESC)"""


async def fill(
    session: StoreSession, settings: ChatSettings, repo: MessageRepository, chat: Chat, count: int
) -> list[ChatMessage]:
    """`count` messages written to both schemas (see `fill_history`), newest first."""
    flat = await prepare(
        session,
        "INSERT INTO {ks}.messages_flat (chat_id, time, message_id, from_user, to_user, body) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        settings.write_consistency,
        settings.keyspace,
    )

    async def write_flat(m: ChatMessage) -> None:
        await execute(
            session, flat.bind((m.chat_id, m.time, m.message_id, m.from_user, m.to_user, m.body))
        )

    return await fill_history(settings, repo, chat, count, also=write_flat)


async def fill_history(
    settings: ChatSettings,
    repo: MessageRepository,
    chat: Chat,
    count: int,
    also: Callable[[ChatMessage], Awaitable[None]] | None = None,
) -> list[ChatMessage]:
    """`count` messages, one every ~10 minutes ending now (about two years: ~70 buckets),
    stored through the chat service's repository (and handed to `also`, when given) with a
    bounded number of requests in flight; returned newest first."""
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(minutes=10 * count)
    messages = []
    for i in range(count):
        time_ = timeuuid_at(start + timedelta(minutes=10 * i, seconds=rng.random()), rng)
        messages.append(
            ChatMessage(
                message_id=uuid.uuid4(),
                chat_id=chat.chat_id,
                from_user=chat.users_id[i % 2],
                to_user=chat.users_id[(i + 1) % 2],
                body=f"message number {i}",
                time=time_,
                time_iso=timeuuid_datetime(time_),
            )
        )
    for bucket in {bucket_of(m.time_iso, settings.bucket_days) for m in messages}:
        await repo.add_bucket(chat.chat_id, bucket)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def write(m: ChatMessage) -> None:
        async with gate:
            await repo.insert(m, bucket_of(m.time_iso, settings.bucket_days))
            if also is not None:
                await also(m)

    await asyncio.gather(*(write(m) for m in messages))
    return sorted(messages, key=lambda m: m.time_iso, reverse=True)


def original_page(
    session: Session, keyspace: str, chat_id: uuid.UUID, cursor: uuid.UUID | None
) -> list[Any]:
    """The original service's pattern: count the partition, then walk it to the cursor."""
    total = session.execute(
        f"SELECT COUNT(*) FROM {keyspace}.messages_flat WHERE chat_id = %s",  # noqa: S608 - our name
        (chat_id,),
        timeout=120,
    ).one()["count"]
    rows = session.execute(
        SimpleStatement(
            f"SELECT * FROM {keyspace}.messages_flat WHERE chat_id = %s",  # noqa: S608 - our name
            fetch_size=5000,
        ),
        (chat_id,),
        timeout=120,
    )
    page: list[Any] = []
    passed = cursor is None
    for row in rows:
        if passed:
            page.append(row)
            if len(page) == min(PAGE, total):
                break
        elif row["time"] == cursor:
            passed = True
    return page


async def measure(
    service: MessageService,
    session: Session,
    settings: ChatSettings,
    chat: Chat,
    messages: list[ChatMessage],
    depths: list[int],
    samples: int,
    original_samples: int,
) -> list[dict[str, Any]]:
    caller = Principal(user_id=chat.users_id[0], username="bench")
    rows = []
    for depth in depths:
        cursor = messages[depth - 1].time if depth else None
        expected = [m.message_id for m in messages[depth : depth + PAGE]]
        ours = []
        for _ in range(samples):
            started = time.perf_counter()
            page = await service.history(caller, chat.chat_id, cursor, PAGE)
            ours.append((time.perf_counter() - started) * 1000)
        assert [m.message_id for m in page] == expected, "bucketed page is wrong"
        theirs = []
        for _ in range(original_samples):
            started = time.perf_counter()
            flat = await asyncio.to_thread(
                original_page, session, settings.keyspace, chat.chat_id, cursor
            )
            theirs.append((time.perf_counter() - started) * 1000)
        assert [r["message_id"] for r in flat] == expected, "original page is wrong"
        rows.append(
            {
                "depth": depth,
                "bucketed_p50_ms": statistics.median(ours),
                "bucketed_p99_ms": percentile(ours, 99),
                "bucketed_samples": samples,
                "original_p50_ms": statistics.median(theirs),
                "original_p99_ms": percentile(theirs, 99),
                "original_samples": original_samples,
            }
        )
        print_row(rows[-1])
    return rows


def print_row(row: dict[str, Any]) -> None:
    ratio = row["original_p99_ms"] / row["bucketed_p99_ms"]
    print(
        f"{row['depth']:>8} | {row['bucketed_p50_ms']:>9.2f} {row['bucketed_p99_ms']:>9.2f} | "
        f"{row['original_p50_ms']:>9.1f} {row['original_p99_ms']:>9.1f} | {ratio:>8.1f}x",
        flush=True,
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    keyspace = f"bench_history_{uuid.uuid4().hex[:8]}"
    settings = ChatSettings(keyspace=keyspace)
    store = await connect(settings)
    # The original's pattern runs on the original's driver, blocking, as it did.
    hosts, port = settings.cassandra_contact
    cluster = Cluster(hosts, port=port)
    session = cluster.connect()
    session.row_factory = dict_factory
    try:
        await migrate(store, settings)
        await store.execute(acsylla.create_statement(FLAT_TABLE.format(ks=keyspace), timeout=60))
        chat_repo, repo = ChatRepository(store), MessageRepository(store)
        await chat_repo.prepare(settings)
        await repo.prepare(settings)
        chat = Chat(
            chat_id=chat_id_for("1", "2"),
            users_id=["1", "2"],
            users_name=["a", "b"],
            created_at=datetime.now(UTC),
        )
        await chat_repo.insert_if_absent(chat)
        started = time.perf_counter()
        messages = await fill(store, settings, repo, chat, args.messages)
        fill_seconds = time.perf_counter() - started
        print(f"filled {args.messages} messages (x2 schemas) in {fill_seconds:.1f} s")
        async with httpx.AsyncClient() as unused_auth:
            chats = ChatService(chat_repo, AuthClient(unused_auth, settings))
            limits = SendLimits(settings, Metrics())
            service = MessageService(
                settings,
                repo,
                chats,
                MessagePublisher(settings),
                limits,
                SendGate(settings, None, limits, repo, Metrics()),
            )
            depths = [
                d for d in (0, 1_000, args.messages // 2, args.messages - PAGE) if d < args.messages
            ]
            print(HEADER)
            rows = await measure(
                service,
                session,
                settings,
                chat,
                messages,
                depths,
                args.samples,
                args.original_samples,
            )
        return {
            "benchmark": "history_depth",
            "messages": args.messages,
            "page_size": PAGE,
            "bucket_days": settings.bucket_days,
            "buckets": len({bucket_of(m.time_iso, settings.bucket_days) for m in messages}),
            "fill_seconds": fill_seconds,
            "rows": rows,
            "at": datetime.now(UTC).isoformat(),
        }
    finally:
        await asyncio.to_thread(session.execute, f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        await store.close()
        await asyncio.to_thread(cluster.shutdown)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200, help="pages per depth, bucketed")
    parser.add_argument(
        "--original-samples", type=int, default=10, help="pages per depth, original (slow)"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "history_depth.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / 'history_depth.json'}")


if __name__ == "__main__":
    main()
