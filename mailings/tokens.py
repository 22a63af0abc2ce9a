"""Signed tokens in links that work without an account: unsubscribe and RSVP (each its own salt).

A message's unsubscribe link (`/unsubscribe/<token>`) and its preference page (`/preferences/<token>`)
carry the same token: both act for the same person about the same message, and a mailing signs one
token per recipient instead of two."""

import hmac

from flask import current_app
from itsdangerous import BadSignature, Signer
from itsdangerous.encoding import base64_encode, want_bytes

UNSUBSCRIBE_SALT = "relais-unsubscribe"
RSVP_SALT = "relais-rsvp"


class KeyedSigner(Signer):
    """itsdangerous's Signer with its keyed HMAC set up once instead of once per signature (a
    mailing signs three links per recipient); the signatures and their checks are the same."""

    def get_signature(self, value: str | bytes) -> bytes:
        keyed = getattr(self, "_keyed", None)
        if keyed is None:
            keyed = self._keyed = hmac.new(self.derive_key(), digestmod=self.digest_method)
        mac = keyed.copy()
        mac.update(want_bytes(value))
        return base64_encode(mac.digest())


def signer(salt: str, secret: str | None = None) -> Signer:
    return KeyedSigner(secret or current_app.config["SECRET_KEY"], salt=salt)


def unsubscribe_token(contact_id: int | None, mailing_id: int | None, sign: Signer | None = None) -> str:
    """`contact.mailing.signature`; 0 stands for none (a test message unsubscribes nobody)."""
    return (sign or signer(UNSUBSCRIBE_SALT)).sign(f"{contact_id or 0}.{mailing_id or 0}").decode("ascii")


def read_unsubscribe_token(token: str) -> tuple[int, int] | None:
    """(contact_id, mailing_id), or None when the token was not signed by us (unsubscribe and
    preference links alike)."""
    try:
        value = signer(UNSUBSCRIBE_SALT).unsign(token.encode("ascii")).decode("ascii")
        contact_id, mailing_id = (int(part) for part in value.split("."))
    except (BadSignature, ValueError, UnicodeError):
        return None
    return contact_id, mailing_id


def rsvp_token(contact_id: int, milestone_id: int, answer: str, sign: Signer | None = None) -> str:
    return (sign or signer(RSVP_SALT)).sign(f"{contact_id}.{milestone_id}.{answer}").decode("ascii")


def read_rsvp_token(token: str) -> tuple[int, int, str] | None:
    try:
        value = signer(RSVP_SALT).unsign(token.encode("ascii")).decode("ascii")
        contact_id, milestone_id, answer = value.split(".")
        return int(contact_id), int(milestone_id), answer
    except (BadSignature, ValueError, UnicodeError):
        return None
