"""A local SMTP sink for B4: an aiosmtpd server that records every Message-ID.

The bench's own (the tests have theirs under tests/; benchmarks do not import
tests). Accepts everything with 250 and keeps, per message, its Message-ID
and when it arrived.
"""

from __future__ import annotations

import email.parser
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Handler:
    lock: threading.Lock = field(default_factory=threading.Lock)
    message_ids: list[str] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Only the headers matter; parsing them alone keeps the sink fast.
        parser = email.parser.BytesHeaderParser()
        headers = parser.parsebytes(envelope.original_content or envelope.content)
        now = time.perf_counter()
        with self.lock:
            self.message_ids.append(str(headers["Message-ID"]).strip())
            self.received_at.append(now)
        return "250 OK"


class SmtpSink:
    """`with SmtpSink() as sink:` — then `sink.url` for EMAIL_URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self._controller: Any = None

    def __enter__(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.message_ids)

    def snapshot(self) -> tuple[list[str], list[float]]:
        with self.handler.lock:
            return list(self.handler.message_ids), list(self.handler.received_at)

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.message_ids.clear()
            self.handler.received_at.clear()

    def duplicates(self) -> dict[str, int]:
        ids, _times = self.snapshot()
        return {mid: n for mid, n in Counter(ids).items() if n > 1}
