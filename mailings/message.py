"""The wire format of one message, built with the low-level encoders (STACK.md: ~13x faster).

`email.message.EmailMessage` spends most of its time folding headers; here the headers that are
the same for every recipient are encoded once per mailing and the parts are quoted-printable
encoded by `binascii`. Tests parse every message back with the standard `email` package.
"""

import base64
import binascii
import re
import secrets
from email.utils import format_datetime, formataddr
from functools import lru_cache

from dbtypes import utcnow

CRLF = b"\r\n"


def no_breaks(value: str) -> str:
    """Header values from user input lose any line break (no header injection)."""
    return " ".join(str(value).replace("\x00", "").split())


def is_plain_ascii(value: str) -> bool:
    return value.isascii() and "=?" not in value


def encoded_words(value: str) -> list[str]:
    """RFC 2047 base64 words of at most 45 bytes of text each (72 characters, 75 allowed), cut
    after a space when there is one, never inside a character."""
    data = value.encode("utf-8")
    words = []
    while len(data) > 45:
        cut = data.rfind(b" ", 20, 45) + 1 or 45  # after a space when there is one (see `phrase`)
        while data[cut] & 0xC0 == 0x80:  # never inside a character: back to its first byte
            cut -= 1
        words.append(data[:cut])
        data = data[cut:]
    words.append(data)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words]


def fold(tokens: list[str], used: int) -> str:
    """Tokens separated by a space, a line folded (CRLF then the space) before a token that would
    take the line past 78 characters; `used` is what the line already holds ("From: ").
    Unfolding gives the space back; between two encoded words readers drop it (RFC 2047, 6.2)."""
    out, width = [], used
    for token in tokens:
        if out and width + 1 + len(token) > 78:
            out.append("\r\n ")
            width = 1
        elif out:
            out.append(" ")
            width += 1
        out.append(token)
        width += len(token)
    return "".join(out)


def encode_words(value: str) -> str:
    return fold(encoded_words(value), 9)


@lru_cache(maxsize=256)
def header_text(value: str) -> str:
    """A header value as it goes on the wire (recipients often share a subject: cached)."""
    value = no_breaks(value)
    if is_plain_ascii(value) and len(value) < 900:
        return value
    return encode_words(value)


ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+")  # RFC 5322 atext
Q_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")  # RFC 2047, 5 (3)


def phrase_words(run: str) -> list[str]:
    """A run of words with accents in a display name: one encoded word when it fits in 75
    characters (Q or B, the shorter), else 45-byte B words cut after a space (see `phrase`)."""
    data = run.encode("utf-8")
    q = "".join(chr(b) if b in Q_PLAIN else "_" if b == 0x20 else f"={b:02X}" for b in data)
    b = base64.b64encode(data).decode("ascii")
    word = f"=?utf-8?q?{q}?=" if len(q) <= len(b) else f"=?utf-8?b?{b}?="
    return [word] if len(word) <= 75 else encoded_words(run)


def phrase(name: str) -> list[str]:
    """A display name as tokens that every reader reads back as written: plain words as they are,
    other ASCII words as quoted strings, each run of words with accents as one encoded word.
    Readers keep the space between an encoded word and another token; between two encoded words,
    RFC 2047 (6.2) readers drop it and Python's adds one, so two of them meet only in a run too long
    for one encoded word (75 characters)."""
    out, run = [], []
    for word in name.split(" "):
        if word.isascii() and "=?" not in word:
            if run:
                out.extend(phrase_words(" ".join(run)))
                run = []
            out.append(word if ATOM.fullmatch(word) else '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            run.append(word)
    if run:
        out.extend(phrase_words(" ".join(run)))
    return out


def address(name: str, email: str, used: int = 4) -> str:
    """A mailbox header value (From, To, Reply-To: the one encoder of addresses), its display name
    encoded when needed and folded on CRLF; `used` is the length of the header's name and colon."""
    name, email = no_breaks(name), no_breaks(email)
    if not name:
        return email
    if is_plain_ascii(name):
        return formataddr((name, email))
    return fold([*phrase(name), f"<{email}>"], used + 1)


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
            f"From: {address(from_name, from_email, used=5)}",
            f"Reply-To: {address('', reply_to or from_email, used=9)}",
            "MIME-Version: 1.0",
            f"X-Relais-Mailing: {mailing_id}",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
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
            f"To: {address(to_name, to_email, used=3)}\r\n"
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
