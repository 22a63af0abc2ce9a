"""DKIM signing of outgoing messages (RFC 6376, relaxed/relaxed, rsa-sha256), when `RELAIS_DKIM_DOMAIN`,
`RELAIS_DKIM_SELECTOR` and `RELAIS_DKIM_KEY_FILE` are set. Receivers check the signature against the
public key published at `SELECTOR._domainkey.DOMAIN`; most relays sign with their own key already, so
this is for a federation that sends through its own server.

The signature is written here with `cryptography` (OpenSSL) rather than by dkimpy, whose pure-Python
RSA took 26 ms a message (`bench/delivery.py --dkim`): about 1 ms here. The tests check every signed
message with dkimpy's verifier."""

import base64
import hashlib
import re
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNED_HEADERS = (
    "from",
    "reply-to",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
WSP = re.compile(rb"[ \t]+")
FOLD = re.compile(rb"\r\n(?=[ \t])")


def relaxed_body(body: bytes) -> bytes:
    lines = [WSP.sub(b" ", line).rstrip(b" ") for line in body.split(b"\r\n")]
    while lines and lines[-1] == b"":
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


def relaxed_header(name: bytes, value: bytes) -> bytes:
    value = WSP.sub(b" ", FOLD.sub(b"", value)).strip(b" ")
    return name.strip().lower() + b":" + value


def split_headers(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, raw value) pairs, folded lines kept with their header."""
    fields = []
    for line in re.split(rb"\r\n(?![ \t])", head):
        name, _, value = line.partition(b":")
        fields.append((name, value))
    return fields


class DkimSigner:
    """Signs a message's bytes with one RSA key for one domain and selector."""

    def __init__(self, domain: str, selector: str, key_pem: bytes):
        self.domain, self.selector = domain, selector
        self.key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(self.key, rsa.RSAPrivateKey):
            raise ValueError("RELAIS_DKIM_KEY_FILE must hold an RSA private key (PEM)")

    @classmethod
    def configured(cls, config) -> "DkimSigner | None":
        domain, selector, path = (config.get(k) or "" for k in ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_KEY_FILE"))
        if not (domain and selector and path):
            return None
        return cls(domain, selector, Path(path).read_bytes())

    def sign(self, data: bytes) -> bytes:
        """`data` (CRLF line ends) with its DKIM-Signature header in front."""
        head, _, body = data.partition(b"\r\n\r\n")
        fields = {name.strip().lower().decode("ascii", "replace"): value for name, value in split_headers(head)}
        names = [n for n in SIGNED_HEADERS if n in fields]
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest()).decode("ascii")
        tags = (
            f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={self.domain}; s={self.selector};\r\n"
            f"\tt={int(time.time())}; h={':'.join(names)};\r\n\tbh={body_hash};\r\n\tb="
        )
        signed = b"".join(relaxed_header(n.encode(), fields[n]) + b"\r\n" for n in names)
        signed += relaxed_header(b"DKIM-Signature", b" " + tags.encode("ascii"))
        signature = self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        b = base64.b64encode(signature).decode("ascii")
        folded = "\r\n\t ".join(b[i : i + 72] for i in range(0, len(b), 72))
        return f"DKIM-Signature: {tags}{folded}\r\n".encode("ascii") + data
