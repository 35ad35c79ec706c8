#!/bin/bash
KAFKA_HEAP_OPTS=-Xmx256m exec /opt/kafka/bin/kafka-run-class org.apache.kafka.tools.TopicCommand "$@"
