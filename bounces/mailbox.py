"""The bounce mailbox (`RELAIS_BOUNCE_MAILBOX`, imaps:// or pop3s://), read once by `bounces fetch`
and every few minutes by the active scheduler.

Only what was processed leaves the inbox: bounces and complaints are deleted (or moved to
`BOUNCE_MAILBOX_DONE_FOLDER`), auto-replies and other mail go to `BOUNCE_MAILBOX_REPLIES_FOLDER`
for a person to read, and a message that could not be processed goes to
`BOUNCE_MAILBOX_UNREAD_FOLDER`. POP3 has no folders: there, what was not processed stays on the
server. When the database cannot be reached, the message stays where it was and the poll stops.
"""

import contextlib
import imaplib
import logging
import poplib
import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from bounces import parse, services
from extensions import db

log = logging.getLogger("relais.bounces")
PORTS = {"imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110}
PROCESSED = (parse.DSN, parse.ARF, parse.TEXT_BOUNCE)
TIMEOUT = 30


class MailboxError(Exception):
    """The mailbox could not be reached or read: said in one line, nothing half-done."""


@dataclass
class FetchResult:
    processed: int = 0
    kept: int = 0
    unreadable: int = 0
    lines: list[str] = field(default_factory=list)


@dataclass
class Mailbox:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> "Mailbox":
        parts = urlsplit(url)
        if parts.scheme not in PORTS or not parts.hostname:
            raise MailboxError("RELAIS_BOUNCE_MAILBOX must look like imaps://user:password@host/INBOX or pop3s://...")
        return cls(
            parts.scheme,
            parts.hostname,
            parts.port or PORTS[parts.scheme],
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            unquote(parts.path.lstrip("/")) or "INBOX",
        )

    def __str__(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}"


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=current_app.config.get("BOUNCE_MAILBOX_CAFILE") or None)


def fetch(url: str | None = None) -> FetchResult:
    """Poll the mailbox once."""
    box = Mailbox.from_url(url or current_app.config.get("BOUNCE_MAILBOX") or "")
    try:
        if box.scheme.startswith("imap"):
            return fetch_imap(box)
        return fetch_pop(box)
    except (OSError, imaplib.IMAP4.error, poplib.error_proto, ssl.SSLError) as error:
        raise MailboxError(f"{box} cannot be read: {error}") from error


def handle(raw: bytes, result: FetchResult, label: str) -> str:
    """Process one message: `processed`, `kept` (for a person) or `unreadable`. A database that cannot
    be reached raises OperationalError: the message stays where it is."""
    try:
        outcome = services.process_message(raw, "mailbox")
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        raise
    except Exception as error:  # a message no rule foresaw: set aside for a person, the poll goes on
        db.session.rollback()
        result.unreadable += 1
        result.lines.append(f"{label}: could not be processed ({error}): set aside")
        log.warning("bounces: mailbox message %s could not be processed: %s", label, error)
        return "unreadable"
    result.lines.extend(f"{label}: {line}" for line in outcome.lines)
    if outcome.what in PROCESSED:
        result.processed += 1
        return "processed"
    result.kept += 1
    return "kept"


def fetch_imap(box: Mailbox) -> FetchResult:
    result = FetchResult()
    config = current_app.config
    if box.scheme == "imaps":
        imap = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=tls_context(), timeout=TIMEOUT)
    else:
        imap = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT)
    try:
        imap.login(box.user, box.password)
        status, _ = imap.select(quote(box.folder))
        if status != "OK":
            raise MailboxError(f"{box}: no folder {box.folder}")
        _, data = imap.uid("SEARCH", None, "ALL")
        uids = (data[0] or b"").split()
        folders = {
            "processed": config.get("BOUNCE_MAILBOX_DONE_FOLDER") or "",
            "kept": config.get("BOUNCE_MAILBOX_REPLIES_FOLDER") or "",
            "unreadable": config.get("BOUNCE_MAILBOX_UNREAD_FOLDER") or "",
        }
        created: set[str] = set()
        removed = False
        for uid in uids:
            _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:
                continue
            verdict = handle(raw, result, f"imap {uid.decode()}")
            target = folders[verdict]
            if target:
                if target not in created:
                    imap.create(quote(target))  # answers NO when it exists: fine
                    created.add(target)
                status, answer = imap.uid("COPY", uid, quote(target))
                if status != "OK":
                    raise MailboxError(f"{box}: cannot copy to {target}: {answer}")
            if target or verdict == "processed":
                imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
                removed = True
        if removed:
            imap.expunge()
        imap.close()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    return result


def quote(folder: str) -> str:
    return '"' + re.sub(r'(["\\])', r"\\\1", folder) + '"'


def fetch_pop(box: Mailbox) -> FetchResult:
    result = FetchResult()
    if box.scheme == "pop3s":
        pop = poplib.POP3_SSL(box.host, box.port, context=tls_context(), timeout=TIMEOUT)
    else:
        pop = poplib.POP3(box.host, box.port, timeout=TIMEOUT)
    try:
        pop.user(box.user)
        pop.pass_(box.password)
        count, _ = pop.stat()
        for number in range(1, count + 1):
            _, lines, _ = pop.retr(number)
            if handle(b"\r\n".join(lines) + b"\r\n", result, f"pop3 {number}") == "processed":
                pop.dele(number)
        pop.quit()  # deletions happen here, only after every message was handled
    except BaseException:
        pop.close()  # no QUIT: the server forgets the deletions of an interrupted session
        raise
    return result


def poll(app: Flask) -> None:
    """The scheduler's periodic job: never raises, says what happened in the log."""
    with app.app_context():
        if not app.config.get("BOUNCE_MAILBOX"):
            return
        try:
            result = fetch()
        except (MailboxError, OperationalError) as error:
            log.error("bounces: mailbox poll failed: %s", error)
            return
        finally:
            db.session.remove()
        if result.processed or result.kept or result.unreadable:
            log.info(
                "bounces: mailbox: %d processed, %d kept, %d unreadable",
                result.processed,
                result.kept,
                result.unreadable,
            )
