"""A release keeps its blank lines, lists and links in the email and on the newsroom page, and its
email is written when it leaves: a correction made after scheduling reaches the journalists."""

from datetime import timedelta
from email import message_from_bytes, policy

from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine.worker import Worker
from mailings.models import Mailing
from press import newsroom

BODY = (
    "Premier paragraphe,\r\nsur deux lignes.\r\n\r\n"
    "Au programme :\r\n\r\n- des forums ;\r\n- des portes ouvertes.\r\n\r\n"
    "Le programme complet : https://example.org/programme."
)


def test_paragraphs_lists_and_links_in_the_newsroom_and_the_email(
    mail_app, smtp_server, client, make_user, make_contact, demo_campaign
):
    lead = make_user("national")
    release, _ = newsroom.save_release(lead, None, {"title": "Lancement", "body": BODY, "ready": True}, demo_campaign)
    db.session.commit()
    page = client.get(f"/newsroom/{release.id}").get_data(as_text=True)
    assert "<p>Premier paragraphe,<br>\nsur deux lignes.</p>" in page
    assert "<ul><li>des forums ;</li><li>des portes ouvertes.</li></ul>" in page
    assert '<a href="https://example.org/programme">https://example.org/programme</a>.' in page

    journalist = make_contact(region="93")
    mailing = newsroom.mail_release(
        lead,
        release,
        {"from_name": "ESS", "from_email": "presse@example.org", "audience": {"contact_ids": [journalist.id]}},
    )
    services.transition(lead, mailing, "schedule", send_at=utcnow() + timedelta(minutes=5), allow_weekend=True)
    db.session.commit()
    newsroom.save_release(lead, release, {"body": BODY.replace("des forums", "des forums corrigés")})  # a correction
    db.session.commit()
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    Worker(mail_app, connections=1, once=True, idle=0.05).run()
    message = message_from_bytes(smtp_server.messages[-1].data, policy=policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<li>des forums corrigés ;</li>" in html and "<p>Premier paragraphe,<br>" in html
    assert '<a href="https://example.org/programme" style="color: #' in html  # the link carries its colour
    assert "- des forums corrigés ;" in text and "https://example.org/programme" in text
    assert "Premier paragraphe,\nsur deux lignes." in text.replace("\r\n", "\n")
