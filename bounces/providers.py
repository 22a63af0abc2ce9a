"""What each relay's webhook says, turned into (kind, email, key, reason, status, message id, mailing id).

Brevo, Mailjet and Postmark call a URL that carries HTTP basic credentials (Brevo can also send a
bearer token); Amazon SES publishes through SNS, whose messages are signed with a certificate that
SNS serves from an amazonaws.com address. Events that are not bounces or complaints are ignored.
"""

import base64
import json
import re
import urllib.request
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


@dataclass
class Event:
    kind: str  # hard, soft or complaint
    email: str
    key: str  # the provider's own id of the event: the same event twice is one report
    reason: str = ""
    status: str = ""
    message_id: str = ""
    mailing_id: int | None = None


class BadPayload(ValueError):
    """A body that is not what the provider sends."""


class BadSignature(ValueError):
    """An SNS message whose signature does not hold: nothing is done with it."""


def as_list(payload) -> list[dict]:
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        raise BadPayload("expected a JSON object or a list of objects")
    return items


def text(value) -> str:
    return "" if value is None else str(value)


def mailing_of(value) -> int | None:
    value = text(value).strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


BREVO_KINDS = {
    "hardbounce": "hard",
    "invalidemail": "hard",
    "softbounce": "soft",
    "spam": "complaint",
    "complaint": "complaint",
}


def brevo(payload) -> list[Event]:
    """Brevo's transactional and marketing webhooks: `event` hard_bounce, soft_bounce, spam..."""
    events = []
    for item in as_list(payload):
        kind = BREVO_KINDS.get(re.sub(r"[^a-z]", "", text(item.get("event")).lower()))
        if kind and item.get("email"):
            key = text(item.get("id")) + text(item.get("ts_event") or item.get("date") or item.get("ts"))
            events.append(
                Event(
                    kind,
                    text(item["email"]),
                    f"brevo:{key}:{item.get('message-id', '')}",
                    text(item.get("reason")),
                    message_id=text(item.get("message-id")),
                )
            )
    return events


def mailjet(payload) -> list[Event]:
    """Mailjet's event API: `bounce` (hard_bounce true or false) and `spam`; sent one by one or grouped."""
    events = []
    for item in as_list(payload):
        name = text(item.get("event")).lower()
        if name == "bounce":
            kind = "hard" if item.get("hard_bounce") in (True, "true", 1) else "soft"
        elif name == "spam":
            kind = "complaint"
        else:
            continue
        if not item.get("email"):
            continue
        reason = " ".join(
            p for p in (text(item.get("error_related_to")), text(item.get("error")), text(item.get("comment"))) if p
        )
        key = f"mailjet:{item.get('MessageID', '')}:{item.get('time', '')}:{name}"
        events.append(Event(kind, text(item["email"]), key, reason or text(item.get("source"))))
    return events


POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked"}
POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "Unknown"}
POSTMARK_COMPLAINT = {"SpamComplaint", "SpamNotification"}


def postmark(payload) -> list[Event]:
    """Postmark's bounce and spam complaint webhooks (RecordType Bounce or SpamComplaint, then Type)."""
    events = []
    for item in as_list(payload):
        kind_name = text(item.get("Type"))
        if text(item.get("RecordType")) == "SpamComplaint" or kind_name in POSTMARK_COMPLAINT:
            kind = "complaint"
        elif kind_name in POSTMARK_HARD:
            kind = "hard"
        elif kind_name in POSTMARK_SOFT:
            kind = "soft"
        else:
            continue  # AutoResponder, Subscribe, OpenRelayTest...: not a bounce
        if not item.get("Email"):
            continue
        reason = " ".join(p for p in (text(item.get("Description")), text(item.get("Details"))) if p)
        metadata = item.get("Metadata") if isinstance(item.get("Metadata"), dict) else {}
        events.append(
            Event(
                kind,
                text(item["Email"]),
                f"postmark:{item.get('ID', '')}",
                reason,
                mailing_id=mailing_of(metadata.get("mailing_id")),
            )
        )
    return events


# ---- Amazon SES through SNS -----------------------------------------------------------------------

SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_certificates: dict[str, x509.Certificate] = {}


def string_to_sign(message: dict) -> bytes:
    fields = SIGNED_FIELDS.get(text(message.get("Type")))
    if fields is None:
        raise BadPayload("unknown SNS message type")
    lines = []
    for name in fields:
        if name == "Subject" and message.get(name) is None:
            continue
        if message.get(name) is None:
            raise BadPayload(f"SNS message without {name}")
        lines += [name, text(message[name])]
    return ("\n".join(lines) + "\n").encode("utf-8")


def certificate(url: str, allowed: str) -> x509.Certificate:
    """The signing certificate, fetched only from an address SNS uses (`BOUNCE_SNS_CERT_URL`)."""
    if not re.match(allowed, url) or not url.endswith(".pem"):
        raise BadSignature(f"signing certificate from an address that is not SNS's: {url}")
    if url not in _certificates:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (the address is checked above)
            _certificates[url] = x509.load_pem_x509_certificate(answer.read(64 * 1024))
        if len(_certificates) > 32:
            _certificates.pop(next(iter(_certificates)))
    return _certificates[url]


def verify_sns(message: dict, allowed: str) -> None:
    """Raises BadSignature unless the message is signed by the certificate SNS names."""
    version = text(message.get("SignatureVersion"))
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(version)  # noqa: S303 (SNS's version 1 is SHA1)
    if algorithm is None:
        raise BadSignature(f"unknown SignatureVersion {version!r}")
    try:
        signature = base64.b64decode(text(message.get("Signature")), validate=True)
    except ValueError as error:
        raise BadSignature("the signature is not base64") from error
    cert = certificate(text(message.get("SigningCertURL")), allowed)
    try:
        cert.public_key().verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as error:
        raise BadSignature("the signature does not match the message") from error


def confirm_subscription(message: dict, allowed_host: str) -> None:
    """Visit SubscribeURL (the message was verified; its address must still be SNS's)."""
    url = text(message.get("SubscribeURL"))
    if not re.match(allowed_host, url):
        raise BadSignature(f"SubscribeURL is not an SNS address: {url}")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (checked above)
        answer.read(64 * 1024)


def ses(notification: dict) -> list[Event]:
    """An SES bounce or complaint notification (the JSON inside the SNS message)."""
    kind_name = text(notification.get("notificationType") or notification.get("eventType"))
    mail = notification.get("mail") if isinstance(notification.get("mail"), dict) else {}
    headers = {
        text(h.get("name")).lower(): text(h.get("value")) for h in mail.get("headers") or [] if isinstance(h, dict)
    }
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    message_id = headers.get("message-id") or text(common.get("messageId"))
    mailing_id = mailing_of(headers.get("x-relais-mailing"))
    events = []
    if kind_name == "Bounce":
        bounce = notification.get("bounce") or {}
        kind = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        for recipient in bounce.get("bouncedRecipients") or []:
            if isinstance(recipient, dict) and recipient.get("emailAddress"):
                reason = text(recipient.get("diagnosticCode")) or text(bounce.get("bounceSubType"))
                key = f"ses:{bounce.get('feedbackId', '')}"
                events.append(
                    Event(
                        kind,
                        text(recipient["emailAddress"]),
                        key,
                        reason,
                        text(recipient.get("status")),
                        message_id,
                        mailing_id,
                    )
                )
    elif kind_name == "Complaint":
        complaint = notification.get("complaint") or {}
        if text(complaint.get("complaintFeedbackType")) == "not-spam":
            return []
        for recipient in complaint.get("complainedRecipients") or []:
            if isinstance(recipient, dict) and recipient.get("emailAddress"):
                reason = text(complaint.get("complaintFeedbackType") or "complaint")
                key = f"ses:{complaint.get('feedbackId', '')}"
                events.append(
                    Event("complaint", text(recipient["emailAddress"]), key, reason, "", message_id, mailing_id)
                )
    return events


def ses_message(message: dict) -> dict:
    try:
        inner = json.loads(text(message.get("Message")))
    except ValueError as error:
        raise BadPayload("the SNS Message is not JSON") from error
    if not isinstance(inner, dict):
        raise BadPayload("the SNS Message is not a JSON object")
    return inner
