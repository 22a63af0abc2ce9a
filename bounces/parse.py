"""What a message mailed back to the return path says: RFC 3464 delivery status notifications, RFC 5965
feedback reports (complaints), the usual non-standard bounces as a fallback, and auto-replies, which
are never bounces (a journalist's "I left the paper, write to X" is for the press officer to read)."""

import email
import email.errors
import email.header
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

BROKEN_STRUCTURE = (email.errors.NoBoundaryInMultipartDefect, email.errors.StartBoundaryNotFoundDefect)
HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
DSN, ARF, TEXT_BOUNCE, AUTO_REPLY, NOT_A_REPORT = "dsn", "arf", "text bounce", "auto-reply", "not a report"

# Permanent codes that say nothing about the address itself: a full mailbox (RFC 3463 calls 5.2.2
# permanent, but it empties again) and policy refusals (5.7.x: the sender or the content, not the
# person). They are counted as soft bounces so that one of them never takes a good address off the lists.
SOFT_PERMANENT = re.compile(r"^5\.(2\.2|7\.\d+)$")
STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
SMTP_CODE = re.compile(r"(?<![\d.])([45]\d\d)(?:[ -]|$)", re.MULTILINE)
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

DAEMON_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailer|bounce[s]?|nobody)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery (status notification \(failure\)|failure|has failed)|"
    r"mail delivery (failed|subsystem)|returned mail|failure notice|non[- ]?remis|non distribu|"
    r"rejected|could not be delivered|unzustellbar|nicht zustellbar",
    re.IGNORECASE,
)
HARD_WORDS = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|doesn't exist|"
    r"recipient (address )?rejected|invalid (recipient|mailbox|address)|mailbox (unavailable|not found|"
    r"disabled)|address (not found|rejected|unknown)|account (has been )?(disabled|deleted|closed)|"
    r"not (a valid|our) customer|no mailbox here|n'existe pas|destinataire inconnu|adresse inconnue|"
    r"unrouteable address|host or domain name not found|domain (not found|does not exist)|"
    r"couldn't find any host|sorry, no mailbox",
    re.IGNORECASE,
)
SOFT_WORDS = re.compile(
    r"mailbox (is )?full|over ?quota|quota exceeded|insufficient (system )?storage|temporar|try again|"
    r"deferred|boîte (aux lettres )?pleine|too many (connections|messages)",
    re.IGNORECASE,
)
RELAIS_HEADER_ID = re.compile(r"^Message-ID:\s*(<relais\.\d+\.\d+\.[0-9a-f]+@[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
MAILING_HEADER = re.compile(r"^X-Relais-Mailing:\s*(\d{1,9})\s*$", re.IGNORECASE | re.MULTILINE)
COPY_FOLLOWS = re.compile(r"^\s*-+ ?(This is a copy of|Below this line is a copy)", re.IGNORECASE | re.MULTILINE)
AUTO_REPLY_SUBJECT = re.compile(
    r"out of (the )?office|automatic reply|auto[- ]?reply|autoreply|réponse automatique|r[ée]ponse en mon absence|"
    r"absen(ce|t)|en cong[ée]s?|vacation|i have moved|j'ai quitt[ée]|nouvelle adresse|has moved|"
    r"abwesenheit|ausser haus|automatische antwort",
    re.IGNORECASE,
)


class Unreadable(ValueError):
    """A report whose structure cannot be read (a truncated or mangled MIME report): for a person."""


@dataclass
class Finding:
    """What the report says about one recipient."""

    email: str
    kind: str  # hard, soft or complaint
    status: str = ""  # the enhanced status code (5.1.1) when there is one
    diagnostic: str = ""  # the server's words


@dataclass
class Report:
    """A message read back: its kind, the findings per recipient, and what ties it to a delivery."""

    what: str
    findings: list[Finding] = field(default_factory=list)
    message_id: str = ""  # the report's own Message-ID
    original_message_id: str = ""  # the Message-ID of the message that bounced
    mailing_id: int | None = None  # X-Relais-Mailing of the message that bounced
    sender: str = ""
    subject: str = ""
    text: str = ""  # the whole message as text, to look for tagged return paths in
    excerpt: str = ""  # an auto-reply's first lines, for the person who reads it


def one_line(value: str, limit: int = 480) -> str:
    return " ".join(str(value or "").split())[:limit]


def bare(value: str) -> str:
    """`rfc822; Camille@Example.org` -> `camille@example.org`."""
    value = (value or "").strip()
    if ";" in value:
        value = value.split(";", 1)[1]
    found = parseaddr(value)[1] or value
    return found.strip().strip("<>").lower()


def kind_of(status: str, action: str = "failed") -> str | None:
    """A status code's kind (hard or soft), or None for reports that are not failures."""
    action = (action or "failed").strip().lower()
    if action not in ("failed", ""):
        return None  # delayed (still queued), delivered, relayed, expanded: not a bounce
    if status.startswith("5") and not SOFT_PERMANENT.match(status):
        return HARD
    return SOFT


def read(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def header(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        return str(value)


def part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        if isinstance(inner, list):
            return "\n".join(m.as_string() if isinstance(m, Message) else str(m) for m in inner)
        return str(inner or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def original_headers(msg: Message) -> Message | None:
    """The returned message's headers (message/rfc822 or text/rfc822-headers part), if any."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return inner[0]
        if kind in ("text/rfc822-headers", "text/rfc822-header", "message/global-headers"):
            return HeaderParser().parsestr(part_text(part).lstrip())
    return None


def status_blocks(part: Message) -> list[Message]:
    """A message/delivery-status part as header blocks: the per-message one, then one per recipient."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload
    text = part_text(part).replace("\r\n", "\n")
    return [HeaderParser().parsestr(block.strip() + "\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def parse(raw: bytes) -> Report:
    """Read one message mailed back to the return path."""
    msg = read(raw)
    broken = [d for d in msg.defects if isinstance(d, BROKEN_STRUCTURE)]
    if broken and msg.get_content_maintype() == "multipart":
        raise Unreadable(f"its MIME structure is broken ({type(broken[0]).__name__})")
    report = Report(
        NOT_A_REPORT,
        message_id=header(msg, "Message-ID").strip(),
        sender=bare(header(msg, "From")),
        subject=one_line(header(msg, "Subject"), 200),
        text=raw.decode("utf-8", "replace"),
    )
    original = original_headers(msg)
    if original is not None:
        report.original_message_id = one_line(header(original, "Message-ID"), 200)
        mailing = header(original, "X-Relais-Mailing").strip()
        report.mailing_id = int(mailing) if mailing.isdigit() else None
    if not report.original_message_id:  # a text bounce quoting the message inline (qmail, Exim)
        found = RELAIS_HEADER_ID.search(report.text)
        report.original_message_id = found.group(1) if found else ""
    if report.mailing_id is None:
        found = MAILING_HEADER.search(report.text)
        report.mailing_id = int(found.group(1)) if found else None
    if msg.get_content_type() == "multipart/report":
        report_type = (msg.get_param("report-type") or "").lower()
        if report_type == "delivery-status" or any(
            p.get_content_type() == "message/delivery-status" for p in msg.walk()
        ):
            report.what = DSN
            report.findings = delivery_status(msg)
            if report.findings or is_daemon(msg):
                return report
        if report_type == "feedback-report" or any(
            p.get_content_type() == "message/feedback-report" for p in msg.walk()
        ):
            report.what = ARF
            report.findings = feedback(msg, original)
            return report
    if looks_like_auto_reply(msg) and not is_daemon(msg):
        report.what = AUTO_REPLY
        report.excerpt = first_lines(msg)
        return report
    if is_daemon(msg):
        report.what = TEXT_BOUNCE
        report.findings = text_bounce(msg, original)
    return report


def is_daemon(msg: Message) -> bool:
    """A message from a mail system (bounce address, null sender, a bounce's subject)."""
    sender = bare(header(msg, "From"))
    return_path = header(msg, "Return-Path").strip()
    subject = header(msg, "Subject")
    return bool(DAEMON_SENDER.match(sender) or return_path == "<>" or BOUNCE_SUBJECT.search(subject))


def looks_like_auto_reply(msg: Message) -> bool:
    """RFC 3834 Auto-Submitted: auto-replied, the vendors' own flags, or an absence subject."""
    auto = header(msg, "Auto-Submitted").strip().lower()
    if auto.startswith("auto-replied"):
        return True
    if any(msg.get(name) for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Reply")):
        return True
    if header(msg, "Precedence").strip().lower() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.search(header(msg, "Subject")))


def first_lines(msg: Message, limit: int = 2000) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return part_text(part).strip()[:limit]
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return re.sub(r"<[^>]+>", " ", part_text(part)).strip()[:limit]
    return ""


def delivery_status(msg: Message) -> list[Finding]:
    """RFC 3464: one finding per recipient block whose Action is `failed`."""
    findings = []
    for part in msg.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for block in status_blocks(part)[1:] or status_blocks(part):
            recipient = bare(header(block, "Original-Recipient")) or bare(header(block, "Final-Recipient"))
            final = bare(header(block, "Final-Recipient"))
            status_match = STATUS.search(header(block, "Status"))
            status = status_match.group(0) if status_match else ""
            diagnostic = one_line(header(block, "Diagnostic-Code").split(";", 1)[-1])
            if not status:
                status = status_from_text(diagnostic)
            kind = kind_of(status, header(block, "Action"))
            if kind is not None and (final or recipient):
                findings.append(Finding(final or recipient, kind, status, diagnostic or status))
    return findings


def feedback(msg: Message, original: Message | None) -> list[Finding]:
    """RFC 5965: the complained-about recipient is Original-Rcpt-To, else the returned message's To."""
    fields = None
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            blocks = status_blocks(part)
            fields = blocks[0] if blocks else None
    if fields is None:
        return []
    feedback_type = header(fields, "Feedback-Type").strip().lower() or "abuse"
    if feedback_type == "not-spam":
        return []
    recipients = [bare(v) for v in fields.get_all("Original-Rcpt-To") or [] if bare(v)]
    if not recipients and original is not None:
        recipients = [a.lower() for _, a in getaddresses([header(original, "To")]) if a]
    words = one_line(f"{feedback_type} complaint from {header(fields, 'User-Agent') or header(msg, 'From')}")
    return [Finding(address, COMPLAINT, "", words) for address in dict.fromkeys(recipients)]


def status_from_text(text: str) -> str:
    """An enhanced status code in free text, else one guessed from the SMTP code or the words."""
    found = STATUS.search(text)
    if found and found.group(1) != "2":
        return found.group(0)
    code = SMTP_CODE.search(text)
    if HARD_WORDS.search(text):
        return "5.1.1"
    if SOFT_WORDS.search(text):
        return "4.2.2" if re.search(r"full|quota|storage|pleine", text, re.IGNORECASE) else "4.0.0"
    if code:
        return f"{code.group(1)[0]}.0.0"
    return ""


def text_bounce(msg: Message, original: Message | None) -> list[Finding]:
    """Exim, qmail, Exchange, Gmail and Postfix texts: the failed address and the server's words.

    Addresses come from the returned message's To, else from the body's address lines (qmail's
    `<x@y>:`, Exim's indented addresses); the words near an address decide its kind. An unclear
    bounce counts as soft: a person's address is never suppressed on a guess."""
    body = "\n".join(part_text(p) for p in own_parts(msg) if p.get_content_maintype() == "text")
    body = COPY_FOLLOWS.split(body, 1)[0]
    candidates = [a.lower() for _, a in getaddresses(msg.get_all("X-Failed-Recipients") or []) if a]
    if not candidates and original is not None:
        candidates = [a.lower() for _, a in getaddresses([header(original, "To")]) if a]
    if not candidates:
        sender = bare(header(msg, "From"))
        to = {a.lower() for _, a in getaddresses([header(msg, "To")])}
        for address in ADDRESS.findall(body):
            address = address.lower().rstrip(".")
            if address != sender and address not in to and not DAEMON_SENDER.match(address):
                candidates.append(address)
    findings = []
    for address in dict.fromkeys(candidates):
        at = body.lower().find(address)
        near = body[at : at + 600] if at >= 0 else body[:1200]
        status = status_from_text(near) or status_from_text(body)
        diagnostic = one_line(diagnostic_line(near) or diagnostic_line(body) or header(msg, "Subject"))
        findings.append(
            Finding(address, HARD if status.startswith("5") and kind_of(status) == HARD else SOFT, status, diagnostic)
        )
    return findings


def own_parts(msg: Message):
    """The message's parts, not those of a message it returns (its addresses are not the failure's)."""
    if msg.get_content_maintype() == "message" or msg.get_content_type() == "text/rfc822-headers":
        return
    if msg.is_multipart():
        for part in msg.get_payload():
            yield from own_parts(part)
    else:
        yield msg


def diagnostic_line(text: str) -> str:
    for line in text.splitlines():
        if SMTP_CODE.search(line.strip()) or HARD_WORDS.search(line) or SOFT_WORDS.search(line):
            return line.strip()
    return ""
