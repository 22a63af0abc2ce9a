"""The wire format of one message, built with the low-level encoders (STACK.md: ~13x faster).

`email.message.EmailMessage` spends most of its time folding headers; here the headers that are
the same for every recipient are encoded once per mailing and the parts are quoted-printable
encoded by `binascii`. Tests parse every message back with the standard `email` package.
"""

import base64
import binascii
import re
import secrets
from email.header import Header
from email.utils import format_datetime, formataddr
from functools import lru_cache

from dbtypes import utcnow

CRLF = b"\r\n"


def no_breaks(value: str) -> str:
    """Header values from user input lose any line break (no header injection)."""
    return " ".join(str(value).replace("\x00", "").split())


def is_plain_ascii(value: str) -> bool:
    return value.isascii() and "=?" not in value


def encode_words(value: str) -> str:
    """RFC 2047 base64 words of at most 45 bytes each, cut on character boundaries."""
    data = value.encode("utf-8")
    words = []
    while len(data) > 45:
        cut = data.rfind(b" ", 20, 45) + 1 or 45  # after a space when there is one (see `phrase`)
        while data[cut] & 0xC0 == 0x80:  # never inside a character: back to its first byte
            cut -= 1
        words.append(data[:cut])
        data = data[cut:]
    words.append(data)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


@lru_cache(maxsize=256)
def header_text(value: str) -> str:
    """A header value as it goes on the wire (recipients often share a subject: cached)."""
    value = no_breaks(value)
    if is_plain_ascii(value) and len(value) < 900:
        return value
    return encode_words(value)


ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+")  # RFC 5322 atext


def phrase(name: str) -> str:
    """A display name with accents: its plain words stay as they are, each run of the others becomes
    encoded words (the spaces of the run inside them). Readers drop the whitespace between two
    encoded words (RFC 2047, 6.2), and some, Python's among them, put a space there instead; between
    an encoded word and a plain one, all keep the space."""
    out, run = [], []
    for word in name.split(" "):
        if ATOM.fullmatch(word) and "=?" not in word:
            if run:
                out.append(encode_words(" ".join(run)))
                run = []
            out.append(word)
        else:
            run.append(word)
    if run:
        out.append(encode_words(" ".join(run)))
    return " ".join(out)


def address(name: str, email: str) -> str:
    """A mailbox header value, its display name encoded when needed."""
    name, email = no_breaks(name), no_breaks(email)
    if not name:
        return email
    if is_plain_ascii(name):
        return formataddr((name, email))
    return f"{phrase(name)} <{email}>"


def qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", CRLF)


class QuotedLayout:
    """A layout's quoted-printable form with its constant lines encoded once. Quoted-printable works
    line by line, so a message's part is the layout's encoded constant lines around its own encoded
    lines, those that hold a placeholder (the body, the unsubscribe link): the same bytes as `qp` of
    the whole part, without encoding the layout again for every recipient."""

    def __init__(self, text: str, marks: tuple[str, ...]):
        self.pieces: list[bytes | list[str]] = []  # encoded constant lines, or a line split around its marks
        constant: list[str] = []
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # only \n ends a line in `qp`
        for line in [line + "\n" for line in lines[:-1]] + [lines[-1]]:
            found = [m for m in marks if m in line]
            if not found:
                constant.append(line)
                continue
            if constant:
                self.pieces.append(qp("".join(constant)))
                constant = []
            self.pieces.append(re.split(f"({'|'.join(map(re.escape, found))})", line))
        if constant:
            self.pieces.append(qp("".join(constant)))

    def encode(self, values: dict[str, str]) -> bytes:
        """The part with each placeholder replaced by its value, quoted-printable."""
        return b"".join(
            piece if isinstance(piece, bytes) else qp("".join(values.get(p, p) for p in piece)) for piece in self.pieces
        )


class MessageBuilder:
    """Builds the messages of one mailing; the constant headers are encoded once."""

    def __init__(self, mailing_id: int, from_name: str, from_email: str, reply_to: str = ""):
        self.mailing_id = mailing_id
        self.domain = from_email.rpartition("@")[2] or "relais.invalid"
        lines = [
            f"From: {formataddr((no_breaks(from_name), no_breaks(from_email)), charset='utf-8') if from_name else no_breaks(from_email)}",
            f"Reply-To: {no_breaks(reply_to or from_email)}",
            "MIME-Version: 1.0",
            f"X-Relais-Mailing: {mailing_id}",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
        if from_name and not is_plain_ascii(from_name):
            lines[0] = f"From: {Header(no_breaks(from_name), 'utf-8').encode()} <{no_breaks(from_email)}>"
        self.constant = "\r\n".join(lines).encode("ascii") + CRLF
        self._date_second = None
        self._date = ""

    def date(self) -> str:
        now = utcnow()
        second = int(now.timestamp())
        if second != self._date_second:
            self._date_second, self._date = second, format_datetime(now.replace(microsecond=0))
        return self._date

    def message_id(self, delivery_id: int) -> str:
        return f"<relais.{self.mailing_id}.{delivery_id}.{secrets.token_hex(6)}@{self.domain}>"

    def build(
        self,
        to_name: str,
        to_email: str,
        subject: str,
        html: bytes,
        text: bytes,
        unsubscribe_url: str,
        message_id: str,
    ) -> bytes:
        """The message's bytes; `html` and `text` are its parts already quoted-printable (`qp`)."""
        boundary = f"=_relais_{secrets.token_hex(12)}"
        head = (
            f"To: {address(to_name, to_email)}\r\n"
            f"Subject: {header_text(subject)}\r\n"
            f"Date: {self.date()}\r\n"
            f"Message-ID: {message_id}\r\n"
            f"List-Unsubscribe: <{no_breaks(unsubscribe_url)}>\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
        ).encode()
        part = f"--{boundary}\r\nContent-Type: text/%s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        return b"".join(
            (
                self.constant,
                head,
                CRLF,
                (part % "plain").encode("ascii"),
                text,
                CRLF,
                (part % "html").encode("ascii"),
                html,
                CRLF,
                f"--{boundary}--\r\n".encode("ascii"),
            )
        )
