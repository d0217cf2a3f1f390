"""An oslo.messaging notification listener, as Ceilometer runs one.

Usage: oslo_listener.py TRANSPORT_URL EXCHANGE TOPIC

Prints "ready" once listening, then one JSON line per notification
received (priority, publisher_id, event_type, payload), until its standard
input closes. Used by internal/server's notification test to check that
what glint publishes is read by oslo.messaging itself.
"""
import json
import sys
import threading

from oslo_config import cfg
import oslo_messaging


# The listener dispatches on a thread pool; print writes the text and the
# newline separately, so two events could share a line without the lock.
_out = threading.Lock()


class Endpoint:
    def _emit(self, priority, publisher_id, event_type, payload):
        line = json.dumps({"priority": priority, "publisher_id": publisher_id,
                           "event_type": event_type, "payload": payload}) + "\n"
        with _out:
            sys.stdout.write(line)
            sys.stdout.flush()
        return oslo_messaging.NotificationResult.HANDLED

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._emit("INFO", publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._emit("ERROR", publisher_id, event_type, payload)


def main():
    url, exchange, topic = sys.argv[1:4]
    conf = cfg.ConfigOpts()
    conf([], project="glint-test")
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    targets = [oslo_messaging.Target(topic=topic, exchange=exchange)]
    listener = oslo_messaging.get_notification_listener(
        transport, targets, [Endpoint()], executor="threading")
    listener.start()
    print("ready", flush=True)
    for _ in sys.stdin:
        pass
    listener.stop()
    listener.wait()
    transport.cleanup()


if __name__ == "__main__":
    main()
