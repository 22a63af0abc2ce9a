"""A release written in the visual editor: what it sends (or a paste from Word) is kept to the allow-
list, through the form and the API alike; its headings, lists, quotes and links reach the newsroom
page, the journalists' email (HTML and text), the press kit PDF and the feeds; a release typed as
plain text opens in the editor as it was written."""

import io
import re
import xml.etree.ElementTree as ET
from email import message_from_bytes, policy

import feedparser
from pypdf import PdfReader

from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine.worker import Worker
from mailings.models import Mailing
from press import newsroom
from press.models import PressRelease
from tests.conftest import csrf_from

FROM_THE_EDITOR = (
    "<p>Le Mois de l'ESS ouvre le <strong>1er novembre</strong> : {{ pas une variable }}.</p>"
    "<h2>Au programme</h2>"
    "<ul><li>des forums ;</li><li>des portes ouvertes.</li></ul>"
    "<blockquote>« L'économie sociale emploie un salarié sur dix. »</blockquote>"
    '<p>Tout le programme : <a href="https://example.org/programme" onclick="steal()">le site</a>.</p>'
    '<p><a href="javascript:alert(1)">cliquer</a><script>alert(1)</script>'
    '<img src="https://example.org/affiche.png" alt="Affiche du Mois" onerror="steal()"></p>'
)


def kept_safe(body: str) -> None:
    assert "<script" not in body and "onclick" not in body and "onerror" not in body and "javascript:" not in body
    assert "<h2>Au programme</h2>" in body and "<ul><li>des forums ;</li>" in body
    assert '<a href="https://example.org/programme">le site</a>' in body


def test_the_form_keeps_what_the_editor_sends_to_the_allow_list(client, login, make_user, demo_campaign):
    lead = make_user("national")
    login(lead)
    page = client.get("/press/releases")
    assert 'id="visual-editor"' in page.get_data(as_text=True)
    answer = client.post(
        "/press/releases",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "title": "Lancement",
            "body": FROM_THE_EDITOR,
            "region": "",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    release = db.session.query(PressRelease).filter_by(title="Lancement").one()
    kept_safe(release.body)

    edit = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'data-templated="false"' in edit  # a release is text: no field menu, no button menu
    assert "Insérer un champ" not in edit and "Insérer un bouton" not in edit


def test_the_api_keeps_html_to_the_allow_list_and_plain_text_as_typed(api, make_user, demo_campaign):
    lead = make_user("national")
    created = api(lead).post("/api/v1/press-releases", json={"title": "Par l'API", "body": FROM_THE_EDITOR})
    assert created.status_code == 201, created.get_json()
    kept_safe(created.get_json()["body"])
    typed = "Premier paragraphe.\n\n- un ;\n- deux."
    plain = api(lead).post("/api/v1/press-releases", json={"title": "En texte", "body": typed})
    assert plain.get_json()["body"] == typed


def test_a_release_from_the_editor_reads_the_same_in_every_place(
    mail_app, smtp_server, client, login, make_user, make_contact, demo_campaign
):
    lead = make_user("national")
    release, _ = newsroom.save_release(
        lead, None, {"title": "Lancement", "lead": "", "body": FROM_THE_EDITOR, "ready": True}, demo_campaign
    )
    db.session.commit()

    page = client.get(f"/newsroom/{release.id}").get_data(as_text=True)
    kept_safe(page[page.index("<h1") : page.index("</main>")])  # the release, not the page's own script
    assert "<blockquote>« L'économie sociale" in page or "<blockquote>« L&#39;économie sociale" in page
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert description.startswith("Le Mois de l") and "<" not in description and "strong" not in description

    feed = feedparser.parse(client.get(f"/newsroom/feed.atom?campaign={demo_campaign.id}").data)
    summary = next(e.summary for e in feed.entries if e.title == "Lancement")
    assert "des forums" in summary and "<li>" not in summary and "&lt;" not in summary
    ET.fromstring(client.get(f"/newsroom/feed.rss?campaign={demo_campaign.id}").data)  # well-formed

    login(lead)
    kit = client.get(f"/press/releases/{release.id}/press-kit.pdf")
    words = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(kit.data)).pages)
    assert "Au programme" in words and "des portes ouvertes" in words and "{{ pas une variable }}" in words
    assert "<strong>" not in words and "1er novembre" in words

    journalist = make_contact(region="93", first_name="Aïcha")
    data = {"from_name": "ESS", "from_email": "presse@example.org", "audience": {"contact_ids": [journalist.id]}}
    mailing = newsroom.mail_release(lead, release, data)
    db.session.commit()
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    Worker(mail_app, connections=1, once=True, idle=0.05).run()
    message = message_from_bytes(smtp_server.messages[-1].data, policy=policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "<h2" in html and ">Au programme</h2>" in html and "<li>des forums ;</li>" in html
    assert 'href="https://example.org/programme"' in html and "<script" not in html and "javascript:" not in html
    assert "{{ pas une variable }}" in html  # a release is text, not a template
    assert "- des forums ;\n- des portes ouvertes." in text and "le site (https://example.org/programme)" in text


def test_a_release_typed_as_plain_text_opens_in_the_editor_as_written(client, login, make_user, demo_campaign):
    lead = make_user("national")
    typed = "Premier paragraphe,\nsur deux lignes.\n\n- des forums ;\n- des portes ouvertes."
    release, _ = newsroom.save_release(lead, None, {"title": "En texte", "body": typed}, demo_campaign)
    db.session.commit()
    login(lead)
    page = client.get(f"/press/releases/{release.id}").get_data(as_text=True)
    textarea = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "&lt;p&gt;Premier paragraphe,&lt;br&gt;" in textarea
    assert "&lt;ul&gt;&lt;li&gt;des forums ;&lt;/li&gt;" in textarea


def test_an_image_without_its_alternative_text_is_refused_naming_the_body(api, make_user, demo_campaign):
    lead = make_user("national")
    pasted = '<p>Notre affiche :</p><p><img src="https://example.org/affiche.png"></p>'
    refused = api(lead).post("/api/v1/press-releases", json={"title": "Affiche", "body": pasted})
    assert refused.status_code == 422
    assert "texte de remplacement" in refused.get_json()["error"]["fields"]["body"]
    assert db.session.query(PressRelease).filter_by(title="Affiche").count() == 0
