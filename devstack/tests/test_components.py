"""Each piece of the running stack answers the Python client the services use."""

import asyncio
import base64
import json
import uuid

import firebase_admin
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cassandra.cluster import Cluster
from firebase_admin import auth, credentials, firestore
from google.auth.credentials import AnonymousCredentials
from sqlalchemy import create_engine, text

from devstack.components.kafka import APPLICATION_TOPICS
from devstack.kafka_topics import grow_topics
from devstack.settings import Endpoints, StackSettings
from devstack.testing import wait_until


def test_postgres_15_answers_through_sqlalchemy(stack: Endpoints) -> None:
    engine = create_engine(stack.database_url)
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
        database = connection.execute(text("SELECT current_database()")).scalar_one()
    engine.dispose()
    assert version.startswith("15.")
    assert database == "auth"


def test_cassandra_5_answers_cql(stack: Endpoints) -> None:
    hosts, port = stack.cassandra_contact
    cluster = Cluster(hosts, port=port)
    try:
        row = cluster.connect().execute("SELECT release_version FROM system.local").one()
    finally:
        cluster.shutdown()
    assert row.release_version.startswith("5.0.")


async def test_kafka_round_trip_keeps_key_and_value(stack: Endpoints, kafka_topics) -> None:
    topic = (await asyncio.to_thread(kafka_topics, "smoke", partitions=2))["smoke"]
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"chat-1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"smoke-{uuid.uuid4().hex}",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=20)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"chat-1", b"hello")


async def test_application_topics_exist_with_configured_partitions(stack: Endpoints) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(APPLICATION_TOPICS)
    finally:
        await admin.close()
    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    expected = StackSettings().kafka_partitions
    assert partitions == dict.fromkeys(APPLICATION_TOPICS, expected)


async def test_topics_grow_to_the_configured_partitions_and_never_shrink(
    stack: Endpoints, kafka_topics
) -> None:
    topics = await asyncio.to_thread(kafka_topics, "fewer", "more", partitions=2)
    fewer, more = topics["fewer"], topics["more"]
    servers = stack.kafka_bootstrap_servers
    assert await grow_topics(servers, [more], 6) == {more: 2}
    # Asked again at once, the broker's metadata may still show the old counts.
    assert await grow_topics(servers, [fewer, more], 4) == {fewer: 2}
    assert await grow_topics(servers, [fewer, more], 4) == {}

    async def counts() -> dict[str, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=servers)
        await admin.start()
        try:
            described = await admin.describe_topics([fewer, more])
        finally:
            await admin.close()
        return {t["topic"]: len(t["partitions"]) for t in described}

    # The broker's metadata catches up with the controller within moments.
    assert await wait_until(lambda: asyncio.run(counts()) == {fewer: 4, more: 6}, 10)


class _Anonymous(credentials.Base):  # type: ignore[misc]
    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()


def test_firestore_emulator_write_then_read(firestore_project: str) -> None:
    app = firebase_admin.initialize_app(
        _Anonymous(), {"projectId": firestore_project}, name=firestore_project
    )
    try:
        client = firestore.client(app)
        reference = client.collection("smoke").document("doc")
        reference.set({"members": ["1", "2"], "count": 3})
        assert reference.get().to_dict() == {"members": ["1", "2"], "count": 3}
    finally:
        firebase_admin.delete_app(app)


def test_custom_token_exchanges_for_id_token_at_auth_emulator(
    stack: Endpoints, firestore_project: str
) -> None:
    app = firebase_admin.initialize_app(
        _Anonymous(), {"projectId": stack.firebase_project}, name=f"auth-{firestore_project}"
    )
    try:
        custom_token = auth.create_custom_token("42", app=app).decode()
    finally:
        firebase_admin.delete_app(app)
    response = httpx.post(
        f"http://{stack.firebase_auth_emulator_host}/identitytoolkit.googleapis.com/v1/"
        "accounts:signInWithCustomToken?key=any",
        json={"token": custom_token, "returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    payload = response.json()["idToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["user_id"] == "42"


def test_kafka_broker_writes_its_own_log(stack: Endpoints) -> None:
    """Exactly one working slf4j binding on the classpath: without it the broker is silent."""
    settings = StackSettings()
    if settings.kafka_bootstrap_servers is not None:
        pytest.skip("Kafka is an external server here; its log is not ours to read")
    log = (settings.state_dir / "kafka" / "kafka.log").read_text(errors="replace")
    assert "Kafka Server started" in log
    assert "No SLF4J providers" not in log
