"""``python -m tests.support.locust_message``: a worker's report data through Locust's own encoding.

Reads JSON from stdin, wraps it as a worker report in ``locust.rpc.protocol.Message``,
serializes it (msgpack, as a worker does before sending) and unserializes it (as the master
does), and prints the data that came out as JSON. A process of its own: importing Locust
monkey-patches the importing process with gevent, which a test process must not be.
"""

import json
import sys

from locust.rpc.protocol import Message

from perftest.measure.load.locust_engine.wire import REPORT_KEY

if __name__ == "__main__":
    sent = Message("stats", {REPORT_KEY: json.load(sys.stdin)}, "worker-1")
    received = Message.unserialize(sent.serialize())
    json.dump(received.data[REPORT_KEY], sys.stdout)
