"""Cassandra 5.0 on Java 17, a single node with small memtables."""

from pathlib import Path

from devstack.components.jvm import MavenComponent

# The module flags of Cassandra's conf/jvm17-server.options: without them Java 17 refuses the
# reflective access Cassandra needs (DirectBuffer.cleaner and friends).
JAVA17_MODULE_FLAGS = [
    *(
        f"--add-exports={name}=ALL-UNNAMED"
        for name in [
            "java.base/jdk.internal.misc",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi",
            "java.management/com.sun.jmx.remote.security",
            "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server",
            "java.sql/java.sql",
            "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
        ]
    ),
    *(
        f"--add-opens={name}=ALL-UNNAMED"
        for name in [
            "java.base/java.lang.module",
            "java.base/jdk.internal.loader",
            "java.base/jdk.internal.ref",
            "java.base/jdk.internal.reflect",
            "java.base/jdk.internal.math",
            "java.base/jdk.internal.module",
            "java.base/jdk.internal.util.jar",
            "jdk.management/com.sun.management.internal",
            "java.base/sun.nio.ch",
            "java.base/java.io",
            "java.base/java.lang.reflect",
            "java.base/java.lang",
            "java.base/java.util",
            "java.base/java.nio",
        ]
    ),
]

_LOGBACK = """\
<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


class Cassandra(MavenComponent):
    name = "cassandra"
    ready_timeout = 240.0
    grace_seconds = 45.0

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    def config_files(self) -> dict[Path, str]:
        return {
            self.conf_dir / "cassandra.yaml": self._yaml(),
            self.conf_dir / "logback.xml": _LOGBACK,
        }

    def _yaml(self) -> str:
        # The stand-in of the cassandra:5.0 image writes the same skeleton with the official
        # image's defaults instead of these (deploy/standins/cassandra/entrypoint.sh says why
        # it is not generated from this).
        data = self.state_dir / "data"
        return f"""\
cluster_name: devstack
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{self.host}:{self.settings.cassandra_storage_port}"
listen_address: {self.host}
rpc_address: {self.host}
storage_port: {self.settings.cassandra_storage_port}
native_transport_port: {self.port}
start_native_transport: true
data_file_directories: [{data}/data]
commitlog_directory: {data}/commitlog
saved_caches_directory: {data}/saved_caches
hints_directory: {data}/hints
cdc_raw_directory: {data}/cdc_raw
# Batch: a write is acknowledged only once its commit log entry is on disk (concurrent writes
# share one fsync). With the default periodic sync, a kill -9 loses up to ten seconds of
# acknowledged writes: replay stops at the last sync marker. One node here, so no replica
# holds a second copy.
commitlog_sync: batch
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
concurrent_compactors: 1
concurrent_reads: 8
concurrent_writes: 8
auto_snapshot: false
# Paxos v2: a lightweight transaction (the chat service's idempotency claim) takes two round
# trips instead of four, and its state is purged once it is no longer needed.
paxos_variant: v2
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
"""

    def argv(self) -> list[str]:
        heap = self.settings.cassandra_heap
        return [
            str(self.java()), f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Xss512k",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djdk.attach.allowAttachSelf=true", "-Dcassandra-foreground=yes",
            f"-Dcassandra.config=file://{self.conf_dir / 'cassandra.yaml'}",
            f"-Dcassandra.storagedir={self.state_dir / 'data'}",
            f"-Dlogback.configurationFile={self.conf_dir / 'logback.xml'}",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0", "-Dcassandra.ring_delay_ms=0",
            "-Dcassandra.superuser_setup_delay_ms=0", "-Djava.net.preferIPv4Stack=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            f"-Dcassandra.jmx.local.port={self.settings.cassandra_jmx_port}",
            *JAVA17_MODULE_FLAGS,
            "-cp", f"{self.conf_dir}:{self.classpath_dir()}/*",
            "org.apache.cassandra.service.CassandraDaemon",
        ]  # fmt: skip

    def check(self) -> None:
        from cassandra.cluster import Cluster

        hosts, port = self.context.endpoints.cassandra_contact
        cluster = Cluster(hosts, port=port, connect_timeout=3, control_connection_timeout=3)
        try:
            session = cluster.connect()
            session.execute("SELECT release_version FROM system.local", timeout=5).one()
        finally:
            cluster.shutdown()
