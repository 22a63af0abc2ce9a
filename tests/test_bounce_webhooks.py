"""Reports that come already read: `POST /api/v1/bounces` and the providers' webhooks (Brevo, Mailjet,
Postmark with their credentials; Amazon SES through SNS, signed with a key and certificate made here and
served from a loopback address). A request that fails authentication changes nothing."""

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from bounces import providers
from bounces.models import BounceEvent
from contacts.models import Contact
from extensions import db
from tests.test_bounces import contact, suppression

SECRET = "relais:s3cret-webhook"
TOPIC = "arn:aws:sns:eu-west-3:123456789012:relais-ses-bounces"


@pytest.fixture
def hooks(app):
    app.config.update(BOUNCE_WEBHOOK_BREVO=SECRET, BOUNCE_WEBHOOK_MAILJET=SECRET, BOUNCE_WEBHOOK_POSTMARK=SECRET)
    yield app
    app.config.update(BOUNCE_WEBHOOK_BREVO="", BOUNCE_WEBHOOK_MAILJET="", BOUNCE_WEBHOOK_POSTMARK="")


def basic(credentials: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def events() -> int:
    return db.session.scalar(select(db.func.count(BounceEvent.id)))


# ---- the API -------------------------------------------------------------------------------------


def test_the_api_takes_a_bounce_and_answers_202(app, api, make_user, make_contact, make_mailing):
    make_contact(email="lea@example.org")
    client = api(make_user("national"))
    answer = client.post("/api/v1/bounces", json={"email": "Lea@Example.org", "type": "hard", "reason": "550 5.1.1"})
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["changed"] is True
    db.session.expire_all()
    assert contact("lea@example.org").bounced and suppression("lea@example.org") == "bounced"
    again = client.post("/api/v1/bounces", json={"email": "lea@example.org", "type": "hard", "reason": "550 5.1.1"})
    assert again.status_code == 202 and again.get_json()["changed"] is False

    unknown = client.post("/api/v1/bounces", json={"email": "nobody@example.org", "type": "complaint"})
    assert unknown.status_code == 202 and unknown.get_json()["changed"] is False
    assert "unknown address" in unknown.get_json()["result"]


def test_the_api_ties_a_report_to_the_mailing_s_delivery(app, api, make_user, make_contact, make_mailing):
    from dbtypes import utcnow
    from mailings import services

    marc = make_contact(email="marc@example.org")
    mailing = make_mailing([marc])
    services.start(mailing, utcnow())
    db.session.commit()
    client = api(make_user("national"))
    answer = client.post(
        "/api/v1/bounces", json={"email": "marc@example.org", "type": "complaint", "mailing_id": mailing.id}
    )
    assert answer.status_code == 202
    event = db.session.scalar(select(BounceEvent))
    assert event.mailing_id == mailing.id and event.delivery_id is not None
    db.session.expire_all()
    assert contact("marc@example.org").opted_out


def test_the_api_refuses_bad_input_and_other_roles(app, api, make_user, make_contact):
    make_contact(email="lea@example.org")
    client = api(make_user("national"))
    bad = client.post("/api/v1/bounces", json={"email": "lea@example.org", "type": "bounce"})
    assert bad.status_code == 422 and "type" in bad.get_json()["error"]["fields"]
    bad = client.post("/api/v1/bounces", json={"email": "not an address", "type": "hard"})
    assert bad.status_code == 422 and "email" in bad.get_json()["error"]["fields"]
    bad = client.post("/api/v1/bounces", json={"email": "lea@example.org", "type": "hard", "mailing_id": 999999})
    assert bad.status_code == 422 and "mailing_id" in bad.get_json()["error"]["fields"]
    viewer = api(make_user("viewer")).post("/api/v1/bounces", json={"email": "lea@example.org", "type": "hard"})
    assert viewer.status_code == 403
    anonymous = app.test_client().post("/api/v1/bounces", json={"email": "lea@example.org", "type": "hard"})
    assert anonymous.status_code == 401
    assert events() == 0 and not contact("lea@example.org").bounced


def test_the_openapi_document_describes_the_endpoint(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/bounces"]["post"]
    assert "202" in operation["responses"]
    schema = spec["components"]["schemas"]["BounceReport"]
    assert set(schema["properties"]) == {"email", "type", "mailing_id", "reason"}
    assert schema["properties"]["type"]["enum"] == ["hard", "soft", "complaint"]


# ---- Brevo, Mailjet, Postmark ------------------------------------------------------------------------

BREVO_HARD = {
    "event": "hard_bounce",
    "email": "lea@example.org",
    "id": 1234567,
    "date": "2008-10-07 11:14:06",
    "ts": 1223370846,
    "message-id": "<202610071114.12345678901@smtp-relay.mailin.fr>",
    "ts_event": 1223370846,
    "subject": "Invitation",
    "tag": "",
    "sending_ip": "185.41.28.109",
    "ts_epoch": 1223370846000,
    "reason": "550 5.1.1 <lea@example.org>: Recipient address rejected: User unknown",
}
MAILJET_EVENTS = [
    {
        "event": "bounce",
        "time": 1223370846,
        "MessageID": 19421777835146490,
        "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j",
        "email": "marc@example.org",
        "mj_campaign_id": 7173,
        "mj_contact_id": 320,
        "customcampaign": "",
        "CustomID": "",
        "Payload": "",
        "blocked": False,
        "hard_bounce": True,
        "error_related_to": "recipient",
        "error": "user unknown",
        "comment": "Host or domain name not found. Name service error for name=lbjsnrftlsiuvbsren.com type=A: Host not found",
    },
    {"event": "open", "time": 1223370900, "MessageID": 19421777835146491, "email": "nina@example.org"},
    {
        "event": "spam",
        "time": 1223371000,
        "MessageID": 19421777835146492,
        "email": "nina@example.org",
        "source": "JMRPP",
    },
]
POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "MessageStream": "outbound",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "Invitation",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "ServerID": 23,
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "sophie@example.org",
    "From": "presse@example.org",
    "BouncedAt": "2008-10-07T13:28:10.2735393-04:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Invitation",
    "Content": "",
}
POSTMARK_AUTORESPONDER = {**POSTMARK_BOUNCE, "ID": 4323372036854775808, "Type": "AutoResponder", "TypeCode": 64}
POSTMARK_COMPLAINT = {
    "RecordType": "SpamComplaint",
    "MessageStream": "outbound",
    "ID": 42,
    "Type": "SpamComplaint",
    "TypeCode": 512,
    "Name": "Spam complaint",
    "Email": "paul@example.org",
    "BouncedAt": "2008-10-08T10:00:00Z",
}


def test_brevo_mailjet_and_postmark_reports_apply_with_their_credentials(hooks, client, make_contact):
    for email in ("lea@example.org", "marc@example.org", "nina@example.org", "sophie@example.org", "paul@example.org"):
        make_contact(email=email)
    assert client.post("/webhooks/brevo", json=BREVO_HARD, headers=basic(SECRET)).status_code == 200
    answer = client.post("/webhooks/mailjet", json=MAILJET_EVENTS, headers=basic(SECRET))
    assert answer.status_code == 200 and answer.get_json()["received"] == 2  # the open is no report
    for body in (POSTMARK_BOUNCE, POSTMARK_AUTORESPONDER, POSTMARK_COMPLAINT):
        assert client.post("/webhooks/postmark", json=body, headers=basic(SECRET)).status_code == 200
    db.session.expire_all()
    assert contact("lea@example.org").bounced and suppression("lea@example.org") == "bounced"
    assert contact("marc@example.org").bounced
    assert contact("nina@example.org").opted_out and suppression("nina@example.org") == "complaint"
    assert contact("sophie@example.org").bounced
    assert contact("paul@example.org").opted_out
    sources = dict(db.session.execute(select(BounceEvent.email, BounceEvent.source)).all())
    assert sources["lea@example.org"] == "webhook:brevo" and sources["sophie@example.org"] == "webhook:postmark"
    before = events()
    client.post("/webhooks/brevo", json=BREVO_HARD, headers=basic(SECRET))  # the provider retries
    assert events() == before


def test_brevo_s_bearer_token_is_accepted(hooks, client, make_contact):
    make_contact(email="lea@example.org")
    answer = client.post("/webhooks/brevo", json=BREVO_HARD, headers={"Authorization": f"Bearer {SECRET}"})
    assert answer.status_code == 200
    db.session.expire_all()
    assert contact("lea@example.org").bounced


@pytest.mark.parametrize(
    "provider, body", [("brevo", BREVO_HARD), ("mailjet", MAILJET_EVENTS), ("postmark", POSTMARK_BOUNCE)]
)
def test_a_request_without_the_right_credentials_changes_nothing(hooks, client, make_contact, provider, body):
    for email in ("lea@example.org", "marc@example.org", "nina@example.org", "sophie@example.org"):
        make_contact(email=email)
    for headers in ({}, basic("relais:wrong"), {"Authorization": "Bearer wrong"}):
        answer = client.post(f"/webhooks/{provider}", json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert events() == 0
    assert not db.session.scalar(select(db.func.count(Contact.id)).where(Contact.bounced | Contact.opted_out))


def test_a_provider_that_is_not_configured_is_not_there(app, client):
    assert client.post("/webhooks/brevo", json=BREVO_HARD, headers=basic(SECRET)).status_code == 404
    assert client.post("/webhooks/ses", json={}).status_code == 404
    assert client.post("/webhooks/sendgrid", json={}).status_code == 404


def test_a_body_that_is_not_the_provider_s_is_a_400(hooks, client):
    answer = client.post(
        "/webhooks/mailjet", data="not json", headers={**basic(SECRET), "Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert events() == 0


# ---- Amazon SES through SNS ---------------------------------------------------------------------------


class Sns:
    """A signing key and certificate made here, the certificate served on loopback like SNS serves its own,
    and a SubscribeURL that records its visits."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.eu-west-3.amazonaws.com")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.visits: list[str] = []
        sns = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                sns.visits.append(self.path)
                body = sns.cert.public_bytes(serialization.Encoding.PEM) if self.path.endswith(".pem") else b"<ok/>"
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, message: dict, version: str = "2") -> dict:
        """AWS's recipe: the fields in order, each name then value on its own line."""
        if message["Type"] == "Notification":
            names = (
                ["Message", "MessageId"]
                + (["Subject"] if "Subject" in message else [])
                + ["Timestamp", "TopicArn", "Type"]
            )
        else:
            names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        text = "".join(f"{n}\n{message[n]}\n" for n in names).encode()
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(text, padding.PKCS1v15(), digest)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": f"{self.base}/SimpleNotificationService-0123456789abcdef.pem",
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sns(app):
    server = Sns()
    providers._certificates.clear()
    app.config.update(BOUNCE_WEBHOOK_SES_TOPICS=TOPIC, BOUNCE_SNS_CERT_URL=r"^http://127\.0\.0\.1:\d+/")
    yield server
    app.config.update(
        BOUNCE_WEBHOOK_SES_TOPICS="", BOUNCE_SNS_CERT_URL=r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
    )
    providers._certificates.clear()
    server.close()


def ses_notification(notification: dict, message_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324") -> dict:
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(notification),
        "Timestamp": "2008-10-07T12:00:00.000Z",
        "UnsubscribeURL": "https://sns.eu-west-3.amazonaws.com/?Action=Unsubscribe",
    }


SES_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {
        "feedbackId": "0102017c2c4a3b1e-6d1a9ee6-1c0d-4a4e-9c1d-000000000000-000000",
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [
            {
                "emailAddress": "lea@example.org",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
            }
        ],
        "timestamp": "2008-10-07T12:00:00.000Z",
        "remoteMtaIp": "203.0.113.8",
        "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com",
    },
    "mail": {
        "timestamp": "2008-10-07T11:59:59.000Z",
        "source": "presse@example.org",
        "messageId": "0102017c2c4a2f0e-ses",
        "destination": ["lea@example.org"],
        "headersTruncated": False,
        "headers": [{"name": "X-Relais-Mailing", "value": "999"}],
    },
}
SES_COMPLAINT = {
    "notificationType": "Complaint",
    "complaint": {
        "feedbackId": "0102017c2c4c5d6e-complaint-000000",
        "complaintSubType": None,
        "complainedRecipients": [{"emailAddress": "marc@example.org"}],
        "timestamp": "2008-10-08T09:00:00.000Z",
        "userAgent": "Yahoo!-Mail-Feedback/2.0",
        "complaintFeedbackType": "abuse",
    },
    "mail": {"timestamp": "2008-10-08T08:59:00.000Z", "source": "presse@example.org", "messageId": "0102-ses-2"},
}


def test_ses_subscription_is_confirmed_and_signed_notifications_apply(sns, client, make_contact):
    make_contact(email="lea@example.org")
    make_contact(email="marc@example.org")
    confirmation = sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e2425e0",
            "TopicArn": TOPIC,
            "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
            "SubscribeURL": f"{sns.base}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425e0",
            "Timestamp": "2008-10-07T11:00:00.000Z",
        }
    )
    answer = client.post("/webhooks/ses", data=json.dumps(confirmation), content_type="text/plain; charset=UTF-8")
    assert answer.status_code == 200 and answer.get_json() == {"confirmed": TOPIC}
    assert any(v.startswith("/?Action=ConfirmSubscription") for v in sns.visits)

    bounce = client.post("/webhooks/ses", data=json.dumps(sns.sign(ses_notification(SES_BOUNCE))))
    assert bounce.status_code == 200, bounce.get_json()
    complaint = sns.sign(ses_notification(SES_COMPLAINT, "d2f3-complaint"), version="1")
    assert client.post("/webhooks/ses", data=json.dumps(complaint)).status_code == 200
    db.session.expire_all()
    assert contact("lea@example.org").bounced and suppression("lea@example.org") == "bounced"
    assert contact("marc@example.org").opted_out and suppression("marc@example.org") == "complaint"


def test_ses_messages_that_are_not_signed_by_sns_change_nothing(sns, client, make_contact, app):
    make_contact(email="lea@example.org")
    signed = sns.sign(ses_notification(SES_BOUNCE))
    tampered = {**signed, "Message": json.dumps({**SES_BOUNCE, "mail": {"headers": []}})}
    assert client.post("/webhooks/ses", data=json.dumps(tampered)).status_code == 403
    elsewhere = {**signed, "SigningCertURL": "https://evil.example/SimpleNotificationService-x.pem"}
    assert client.post("/webhooks/ses", data=json.dumps(elsewhere)).status_code == 403
    other_topic = sns.sign({**ses_notification(SES_BOUNCE), "TopicArn": "arn:aws:sns:eu-west-3:666:other"})
    assert client.post("/webhooks/ses", data=json.dumps(other_topic)).status_code == 403
    assert client.post("/webhooks/ses", data=json.dumps({**signed, "Signature": "bm90IGl0"})).status_code == 403
    assert client.post("/webhooks/ses", data="{not json").status_code == 400
    assert events() == 0 and not contact("lea@example.org").bounced


def test_in_production_only_amazonaws_com_may_serve_the_certificate(app):
    allowed = app.config["BOUNCE_SNS_CERT_URL"]
    with pytest.raises(providers.BadSignature):
        providers.certificate("http://127.0.0.1:8000/SimpleNotificationService-x.pem", allowed)
    with pytest.raises(providers.BadSignature):
        providers.certificate("https://sns.eu-west-3.amazonaws.com.evil.example/x.pem", allowed)
    with pytest.raises(providers.BadSignature):
        providers.certificate("http://sns.eu-west-3.amazonaws.com/SimpleNotificationService-x.pem", allowed)
