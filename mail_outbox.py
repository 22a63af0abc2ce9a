"""The local outbox (RELAIS_MAIL_OUTBOX) and the mail server's state as people and /readyz see it.

On the bottom floor beside the transport (which keeps messages here when the outbox is on): it
knows no domain package; a kept message names its mailing by id only."""

import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from flask import current_app
from sqlalchemy import ForeignKey, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from dbtypes import UTCDateTime, utcnow
from extensions import db


class OutboxMessage(db.Model):
    """A message kept instead of sent (RELAIS_MAIL_OUTBOX): the demo's and a laptop's local outbox."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"), index=True)
    sender: Mapped[str] = mapped_column(String(254))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(1000), default="")
    data: Mapped[bytes] = mapped_column(db.LargeBinary)  # the message as it would have gone over SMTP
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


PROBE_SECONDS = 3  # an EHLO that takes longer counts as no answer
PROBE_CACHE = 30  # seconds a probe's answer is reused (a busy /readyz must not open a connection each time)


def outbox_on(app=None) -> bool:
    """RELAIS_MAIL_OUTBOX, read as the environment writes it ("1", "true", ...)."""
    value = (app or current_app).config.get("MAIL_OUTBOX", False)
    return value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)


def keep(sender: str, recipient: str, data: bytes, session=None) -> int:
    """Store one message as it would have gone over SMTP: in `session` when given (a request's test
    send or notice, committed with the request), else in its own short transaction (a worker, whose
    marks are committed on their own connection)."""
    headers = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
    mailing = str(headers.get("X-Relais-Mailing") or "").strip()
    values = {
        "mailing_id": int(mailing) if mailing.isdigit() and int(mailing) > 0 else None,
        "sender": sender[:254],
        "recipient": recipient[:254],
        "subject": str(headers.get("Subject") or "")[:1000],
        "data": data,
    }
    if session is not None:
        row = OutboxMessage(created_at=utcnow(), **values)
        session.add(row)
        session.flush()
        return row.id
    with db.engine.begin() as conn:
        return conn.execute(insert(OutboxMessage).values(created_at=utcnow(), **values)).inserted_primary_key[0]


def newest(page: int, per_page: int) -> tuple[list[OutboxMessage], int]:
    total = db.session.scalar(select(func.count(OutboxMessage.id))) or 0
    rows = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


@dataclass
class Opened:
    """One kept message as its recipient's mail program shows it."""

    headers: list[tuple[str, str]]
    html: str
    text: str


SHOWN_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "X-Relais-Mailing")


def open_message(row: OutboxMessage) -> Opened:
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(row.data)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    return Opened(
        [(name, str(message[name])) for name in SHOWN_HEADERS if message[name] is not None],
        html.get_content() if html is not None else "",
        text.get_content() if text is not None else "",
    )


# ---- the mail server's state -------------------------------------------------------------------

_probe_lock = threading.Lock()
_probe: dict[tuple, tuple[float, str, str]] = {}  # (host, port) -> (when, state, detail)


def mail_state(fresh: bool = False) -> tuple[str, str]:
    """("outbox" | "ok" | "unreachable", detail): an EHLO within a few seconds, cached briefly;
    "unchecked" where RELAIS_MAIL_PROBE is off (the test suite: no connection it did not ask for),
    unless `fresh` (a person pressed "Tester la connexion")."""
    if outbox_on():
        return "outbox", ""
    config = current_app.config
    if not fresh and not config.get("MAIL_PROBE", True):
        return "unchecked", ""
    key = (config["MAIL_SERVER"], int(config["MAIL_PORT"]))
    with _probe_lock:
        cached = _probe.get(key)
    if cached and not fresh and time.monotonic() - cached[0] < PROBE_CACHE:
        return cached[1], cached[2]
    try:
        smtp = smtplib.SMTP(key[0], key[1], timeout=PROBE_SECONDS)
        try:
            code, answer = smtp.ehlo()
            state, detail = ("ok", f"{code}") if 200 <= code < 300 else ("unreachable", f"EHLO {code}")
        finally:
            smtp.close()
    except (OSError, smtplib.SMTPException) as error:
        state, detail = "unreachable", str(error) or type(error).__name__
    with _probe_lock:
        _probe[key] = (time.monotonic(), state, detail)
    return state, detail
