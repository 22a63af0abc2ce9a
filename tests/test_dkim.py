"""DKIM: messages signed by the engine are checked with dkimpy's own verifier (the key published as a
DNS TXT record would be)."""

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.test_delivery import send


@pytest.fixture
def dkim_app(mail_app, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "relais.private"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    mail_app.config.update(DKIM_DOMAIN="example.org", DKIM_SELECTOR="relais2008", DKIM_KEY_FILE=str(path))
    yield mail_app, record
    mail_app.config.update(DKIM_DOMAIN="", DKIM_SELECTOR="", DKIM_KEY_FILE="")


def test_messages_are_signed_and_the_signature_holds(dkim_app, smtp_server, make_contact, make_mailing):
    app, record = dkim_app
    published = {b"relais2008._domainkey.example.org.": record}

    def dns(name, timeout=5):
        return published.get(name)

    people = [make_contact(email="lea@example.org", first_name="Léa"), make_contact(email="marc@example.org")]
    mailing = send(app, make_mailing(people))
    assert mailing.status == "sent"
    for received in smtp_server.messages:
        data = received.data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        header = received.parsed()["DKIM-Signature"]
        assert "d=example.org" in header and "s=relais2008" in header and "a=rsa-sha256" in header
        assert dkim.verify(data, dnsfunc=dns)
        tampered = data.replace(b"Bonjour", b"Bonsoir", 1)
        assert not dkim.verify(tampered, dnsfunc=dns)


def test_without_a_key_nothing_is_signed(mail_app, smtp_server, make_contact, make_mailing):
    send(mail_app, make_mailing([make_contact(email="lea@example.org")]))
    assert smtp_server.messages[0].parsed()["DKIM-Signature"] is None
