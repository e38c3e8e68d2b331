"""A local SMTP sink (aiosmtpd) that counts messages and connections.

python -m bench.smtp_sink PORT     prints {"messages": n, "connections": c} on SIGTERM
"""

from __future__ import annotations

import json
import signal
import sys
import threading

import uvloop
from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.message_ids: set[bytes] = set()
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        with self.lock:
            self.connections += 1
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        content = envelope.original_content or b""
        start = content.find(b"Message-ID:")
        message_id = content[start : content.find(b"\r\n", start)] if start >= 0 else b""
        with self.lock:
            self.messages += 1
            self.message_ids.add(message_id)
        return "250 2.0.0 OK"


def main() -> None:
    port = int(sys.argv[1])
    handler = CountingHandler()
    # uvloop: the sink should cost the machine as little as possible.
    controller = Controller(handler, hostname="127.0.0.1", port=port, loop=uvloop.new_event_loop())
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    with handler.lock:
        print(
            json.dumps(
                {
                    "messages": handler.messages,
                    "unique": len(handler.message_ids),
                    # Sessions that said EHLO (the controller's start-up check does not).
                    "connections": handler.connections,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
