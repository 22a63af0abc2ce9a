"""Mail fixtures: a real SMTP server on loopback (aiosmtpd) that answers per recipient as told.

    smtp_server.behave("x@example.org", "451", "250")   # first try 451, then accepted
Behaviours: "250", "421", "451", "550 5.1.1", "550 5.7.1" (answered at RCPT), "drop-before-dot"
(the connection is cut before the message is complete), "drop-after-dot" (the message is received,
then the connection is cut before the answer), "slow" (answers after `slow_seconds`), "reject-data"
(554 5.6.0 after the final dot). The server advertises PIPELINING unless `handler.pipelining` is False.
Every message it received is read strictly (tests.readers.read_mail) when the test ends.
"""

import asyncio
import email
import email.policy
import smtplib
import socket
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from mailings.engine.worker import Worker
from mailings.scheduler import run_scheduler
from tests.readers import read_mail

CODES = {
    "421": "421 4.3.2 Service shutting down",
    "451": "451 4.3.0 Try again later",
    "550 5.1.1": "550 5.1.1 No such user here",
    "550 5.7.1": "550 5.7.1 Sender rejected by policy",
}


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def parsed(self) -> email.message.EmailMessage:
        """The message as a strict reader sees it (tests.readers.read_mail: wire rules, then
        Python's strict policy, header defects included)."""
        return read_mail(self.data)


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    plans: dict[str, list[str]] = field(default_factory=dict)
    attempts: Counter = field(default_factory=Counter)
    slow_seconds: float = 0.3
    every_message_delay: float = 0.0
    pipelining: bool = True  # advertised like Postfix does; False for a server without it
    lock: threading.Lock = field(default_factory=threading.Lock)
    at_once: int = 0  # messages being received right now (DATA to the answer)
    most_at_once: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    def next_behaviour(self, address: str) -> str:
        with self.lock:
            plan = self.plans.get(address.lower(), ["250"])
            step = self.attempts[address.lower()]
            self.attempts[address.lower()] += 1
            return plan[min(step, len(plan) - 1)]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        behaviour = self.next_behaviour(address)
        if behaviour in CODES:
            if behaviour == "421":
                server.transport.close()
            return CODES[behaviour]
        if behaviour == "drop-before-dot":
            server.transport.close()
            return "250 OK"
        envelope.rcpt_tos.append(address)
        envelope.behaviour = behaviour
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            return await self.receive(server, envelope)
        finally:
            with self.lock:
                self.at_once -= 1

    async def receive(self, server, envelope):
        behaviour = getattr(envelope, "behaviour", "250")
        if self.every_message_delay:
            await asyncio.sleep(self.every_message_delay)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if behaviour == "drop-after-dot":
            server.transport.close()
            return "250 OK"
        if behaviour == "reject-data":
            with self.lock:
                self.messages.pop()
            return "554 5.6.0 Content rejected"
        if behaviour == "slow":
            await asyncio.sleep(self.slow_seconds)
        return "250 2.0.0 OK queued"


class SmtpServer:
    """The running server: its port, what it received, and how it should answer."""

    def __init__(self, handler: Handler, controller: Controller):
        self.handler = handler
        self.controller = controller
        self.port = controller.port

    def behave(self, address: str, *plan: str) -> None:
        self.handler.plans[address.lower()] = list(plan)

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def by_recipient(self) -> dict[str, list[Received]]:
        found = defaultdict(list)
        for message in self.messages:
            for rcpt in message.rcpt_tos:
                found[rcpt.lower()].append(message)
        return found

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()

    def wait_for(self, matches, timeout: float = 30) -> Received:
        """The first message received that `matches`, waiting for another server (Postfix) to send it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((m for m in self.messages if matches(m)), None)
            if found is not None:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"no matching message within {timeout} s; received: {[m.mail_from for m in self.messages]}"
        )


def free_port() -> int:
    """aiosmtpd's Controller(port=0) cannot check readiness (STACK.md): reserve a real port first."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVERS_ASKED_FOR: set[int] = set()  # the ports this test asked for (its `smtp_server`, `inbox`...)


def ask_for_smtp(port: int) -> None:
    """Let this test connect to `port` (its own loopback server, or a closed port on purpose)."""
    SERVERS_ASKED_FOR.add(port)


@pytest.fixture(autouse=True)
def no_unexpected_smtp(monkeypatch):
    """A test that opens an SMTP connection it did not ask for (through `smtp_server`) fails: mail
    must never leave for a real server (a local MTA on port 25...). The connection is refused, as
    a server that is down would refuse it, and the test fails at its end."""
    unexpected: list[str] = []
    connect = smtplib.SMTP.connect

    def guarded(self, host="localhost", port=0, source_address=None):
        if not port and ":" in host:
            host, _, port = host.rpartition(":")
        if int(port or smtplib.SMTP_PORT) not in SERVERS_ASKED_FOR:
            unexpected.append(f"{host}:{port or smtplib.SMTP_PORT}")
            raise ConnectionRefusedError(f"SMTP connection to {host}:{port} not asked for by the test")
        return connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)
    yield
    SERVERS_ASKED_FOR.clear()
    if unexpected:
        pytest.fail(f"the test opened SMTP connections it did not ask for: {sorted(set(unexpected))}")


@contextmanager
def sending(app):
    """The scheduler and one worker at work in threads while the block runs, as `make run` has them:
    what is due starts, what is started is sent."""
    stop = threading.Event()
    worker = Worker(app, connections=1, idle=0.1)
    worker.stop = stop
    threads = [
        threading.Thread(target=run_scheduler, args=(app, stop), kwargs={"interval": 0.3, "poll": 0.2}, daemon=True),
        threading.Thread(target=worker.run, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)


@pytest.fixture
def smtp_server():
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), data_size_limit=10_000_000)
    controller.start()
    ask_for_smtp(controller.port)
    server = SmtpServer(handler, controller)
    yield server
    controller.stop()
    for message in server.messages:  # every message a test made is read on the wire, strictly
        message.parsed()


@pytest.fixture
def mail_app(app, smtp_server):
    """The app pointed at the loopback server, with quick retries."""
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_RETRY_DELAYS", "MAIL_SMTP_TIMEOUT")}
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_RETRY_DELAYS=(0, 0), MAIL_SMTP_TIMEOUT=5
    )
    app.extensions["mail"].server = "127.0.0.1"
    app.extensions["mail"].port = smtp_server.port
    yield app
    app.config.update(saved)
    app.extensions["mail"].server = saved["MAIL_SERVER"]
    app.extensions["mail"].port = saved["MAIL_PORT"]


class Inbox:
    """A loopback SMTP server's handler that keeps every message, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(read_mail(envelope.original_content))  # strictly, wire rules included
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def inbox(app):
    """A real SMTP server on loopback; the app's mail points at it while the test runs."""
    with socket.socket() as sock:  # Controller(port=0) cannot check readiness (STACK.md)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ask_for_smtp(port)
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", port, False
    yield handler
    state.server, state.port, state.suppress = saved
    controller.stop()


def body(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


DEMO_SUBJECT = "Invitation : {{ conference.title }} — {{ region.name }}"
DEMO_HTML = (
    "<p>Bonjour {{ contact.first_name }},</p>"
    "<p>{{ campaign.name }} : rendez-vous le {{ conference.starts_at|date_fr }} à {{ conference.city }}.</p>"
    '<p><a href="{{ rsvp_yes_url }}">Je viendrai</a></p>'
)


@pytest.fixture
def make_mailing(app, make_user, demo_campaign):
    """make_mailing(contacts, subject=..., html=..., text=..., **fields) -> a draft Mailing, committed."""
    from extensions import db
    from mailings import services

    def make(contacts, subject: str = DEMO_SUBJECT, html: str = DEMO_HTML, text: str = "", user=None, **fields):
        user = user or make_user("national")
        template = services.save_template(
            user, None, {"name": "Modèle", "subject": subject, "html": html, "text": text}
        )
        data = {
            "name": fields.pop("name", "Invitation presse"),
            "from_name": fields.pop("from_name", "CRESS Provence-Alpes-Côte d'Azur"),
            "from_email": fields.pop("from_email", "presse@example.org"),
            "reply_to": fields.pop("reply_to", "contact@example.org"),
            "template_id": template.id,
            "audience": {"contact_ids": [c if isinstance(c, int) else c.id for c in contacts]},
            **fields,
        }
        mailing = services.save_mailing(user, None, data, campaign=demo_campaign)
        db.session.commit()
        return mailing

    return make


@pytest.fixture
def many_contacts(app, regions):
    """many_contacts(n, prefix) -> ids of n media contacts in region 93, inserted in bulk."""
    from sqlalchemy import insert, select

    from contacts.models import Contact
    from extensions import db

    def make(n: int, prefix: str = "press") -> list[int]:
        rows = [
            {
                "email": f"{prefix}{i:06d}@example.org",
                "first_name": f"Prénom{i}",
                "last_name": "Journaliste",
                "kind": "media",
                "region_id": regions["93"].id,
            }
            for i in range(n)
        ]
        db.session.execute(insert(Contact), rows)
        db.session.commit()
        return list(db.session.scalars(select(Contact.id).where(Contact.email.like(f"{prefix}%")).order_by(Contact.id)))

    return make
