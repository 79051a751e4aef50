"""A real SMTP server for tests: aiosmtpd on a free local port, recording what it accepts."""

import email
import logging
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    to: str
    subject: str
    message_id: str
    message: email.message.Message


@dataclass
class _Handler:
    received: list = field(default_factory=list)
    # Answer the next N messages with a temporary failure, as a busy server does.
    fail_next: int = 0
    refuse: set = field(default_factory=set)
    # Parse each message for tests to read; a benchmark only counts them.
    keep_messages: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return "451 Try again later"
            if not self.keep_messages:
                self.received.extend(Received(to, "", "", None) for to in envelope.rcpt_tos)
                return "250 OK"
            message = email.message_from_bytes(envelope.content)
            for to in envelope.rcpt_tos:
                self.received.append(
                    Received(to, message["Subject"], message["Message-ID"], message)
                )
        return "250 OK"


class SMTPSink:
    def __init__(self, *, keep_messages: bool = True):
        # aiosmtpd logs every SMTP command; only problems are worth reading here.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.port = free_port()
        self.handler = _Handler(keep_messages=keep_messages)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def counts(self) -> Counter:
        return Counter(r.to for r in self.received)

    def env(self) -> dict[str, str]:
        """Settings for a child process to send here."""
        return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(self.port), "EMAIL_USE_TLS": "false"}
