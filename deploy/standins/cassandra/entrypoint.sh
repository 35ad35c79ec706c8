#!/bin/bash
# Writes cassandra.yaml for a single node reachable at the container's address, with the
# defaults of Cassandra's own file where the compose file says nothing (periodic commit log
# sync, for one), then runs the daemon in the foreground. -Dcassandra.settings.* options in
# JVM_EXTRA_OPTS override the file, as in the official image.
set -euo pipefail

address=$(hostname -i | awk '{print $1}')
data=/var/lib/cassandra
# devstack writes the same skeleton (seeds, folders, native transport) for its own node in
# devstack/src/devstack/components/cassandra.py. Not generated from it: this file plays the
# official image, in a container without Python, so it keeps that image's defaults and
# variables (periodic sync, 16 tokens, the container's address, CASSANDRA_*), where devstack's
# is tuned for tests (batch sync, small memtables, Paxos v2, its own ports). The JVM module
# flags are shared: build.py writes jvm17-server.options from devstack's JAVA17_MODULE_FLAGS.
cat >/etc/cassandra/cassandra.yaml <<YAML
cluster_name: '${CASSANDRA_CLUSTER_NAME:-Test Cluster}'
num_tokens: ${CASSANDRA_NUM_TOKENS:-16}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$address:7000"
listen_address: $address
rpc_address: 0.0.0.0
broadcast_rpc_address: $address
native_transport_port: 9042
start_native_transport: true
data_file_directories: [$data/data]
commitlog_directory: $data/commitlog
saved_caches_directory: $data/saved_caches
hints_directory: $data/hints
cdc_raw_directory: $data/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
YAML
cp /opt/cassandra/conf/logback.xml /etc/cassandra/logback.xml

heap=${MAX_HEAP_SIZE:-1G}
# The options file holds one flag a line; JVM_EXTRA_OPTS is split on white space on purpose.
mapfile -t module_flags </opt/cassandra/conf/jvm17-server.options
# shellcheck disable=SC2086
exec java -Xms"$heap" -Xmx"$heap" -Xmn"${HEAP_NEWSIZE:-200M}" -XX:+UseG1GC -Xss512k \
  -XX:+ExitOnOutOfMemoryError -Djdk.attach.allowAttachSelf=true -Dcassandra-foreground=yes \
  -Dcassandra.config=file:///etc/cassandra/cassandra.yaml -Dcassandra.storagedir="$data" \
  -Dlogback.configurationFile=/etc/cassandra/logback.xml -Djava.net.preferIPv4Stack=true \
  -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=0 \
  -Dio.netty.tryReflectionSetAccessible=true \
  "${module_flags[@]}" ${JVM_EXTRA_OPTS:-} \
  -cp "/etc/cassandra:/opt/cassandra/lib/*" org.apache.cassandra.service.CassandraDaemon
