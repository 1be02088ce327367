"""Produces messages with librdkafka (confluent-kafka), as a platform's producer would.

Reads one JSON object per stdin line: {"key": str, "value_b64": str, "headers": {name: str}}.
Usage: librdkafka_produce.py BROKERS TOPIC COMPRESSION
"""
import base64
import json
import sys

from confluent_kafka import Producer

brokers, topic, compression = sys.argv[1:4]
errors = []
producer = Producer({
    "bootstrap.servers": brokers,
    "compression.type": compression,
    # Long enough that the messages leave in a few multi-record (compressed) batches.
    "linger.ms": 200,
    "enable.idempotence": True,
    "acks": "all",
})


def delivered(err, _msg):
    if err is not None:
        errors.append(str(err))


for line in sys.stdin:
    m = json.loads(line)
    producer.produce(
        topic,
        key=m["key"].encode(),
        value=base64.b64decode(m["value_b64"]),
        headers=list(m.get("headers", {}).items()),
        on_delivery=delivered,
    )
    producer.poll(0)
remaining = producer.flush(60)
if errors or remaining:
    sys.exit(f"librdkafka: {len(errors)} failed, {remaining} undelivered: {errors[:3]}")
print(json.dumps({"produced": "ok", "compression": compression}))
