"""A real SMTP server (aiosmtpd) on 127.0.0.1, and Django's SMTP backend pointed at it."""

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from tests.ops.servers import free_port

# Long enough never to fire in a healthy run; only there so a broken test fails instead of hanging.
SAFETY_TIMEOUT = 30


class CollectingHandler:
    """Keeps every accepted message. Two optional behaviours for concurrency tests:

    - `rendezvous = n`: the first n messages are only answered once n are in flight at the
      same time, which proves that n senders were delivering concurrently;
    - `hold = True`: the first message is read and not answered until `release` is set
      (a sender stuck mid-send, holding its claim; or killed there).
    """

    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.held: list[bytes] = []
        self.rendezvous = 0
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self._in_flight = 0
        self._all_in_flight: asyncio.Event | None = None
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.hold and not self.holding.is_set():
            self.held.append(envelope.original_content or envelope.content)
            self.holding.set()
            released = await asyncio.get_running_loop().run_in_executor(None, self.release.wait, SAFETY_TIMEOUT)
            if not released:
                return "451 held and never released"
        if self.rendezvous:
            if self._all_in_flight is None:
                self._all_in_flight = asyncio.Event()
            self._in_flight += 1
            if self._in_flight >= self.rendezvous:
                self._all_in_flight.set()
            if self._in_flight <= self.rendezvous:
                try:
                    await asyncio.wait_for(self._all_in_flight.wait(), SAFETY_TIMEOUT)
                except TimeoutError:
                    return "451 the other sender never arrived"
        with self._changed:
            self.accepted.append(envelope.original_content or envelope.content)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for_accepted(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.accepted) >= count, SAFETY_TIMEOUT)


class SmtpServer:
    """Starts and stops like a real mail server would; the port stays the same."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = CollectingHandler()
        self._controller: Controller | None = None

    def start(self) -> None:
        # A stopped Controller cannot be restarted (its loop is closed): make a new one.
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self.handler.release.set()  # let a held message's waiting thread finish
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in list(self.handler.accepted)]

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def smtp(settings):
    """An SMTP server that is *down* until the test calls `smtp.start()`."""
    server = SmtpServer(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = SAFETY_TIMEOUT * 2
    yield server
    server.stop()


@pytest.fixture
def smtp_up(smtp) -> SmtpServer:
    smtp.start()
    return smtp


def text_parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML body of a multipart/alternative message."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None, "both a text/plain and a text/html part"
    return plain.get_content(), html.get_content()


def worker_pass(*arguments: str) -> str:
    """One `send_notifications` pass (what the worker does when woken); returns its summary line."""
    out = StringIO()
    call_command("send_notifications", *arguments, stdout=out)
    return out.getvalue().strip()
