"""A contact's page shows their history across national and regional work, newest first: mailings
received with their status, answers, attendance, coverage, bounces and notes people add; a
regional coordinator sees the national items and its own region's, never another region's."""

import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import select

from bounces.models import BounceEvent
from campaign.federation_models import PressClipping
from contacts.models import ContactNote
from contacts.services import erase_contact
from dbtypes import utcnow
from extensions import db
from press import conferences, followup
from tests.conftest import csrf_from, sign_out
from tests.test_press_helpers import conference, deliver


def items(html: str) -> list[tuple[str, str]]:
    """(kind, text) of each history item, in page order."""
    section = html[html.index('id="history"') :]
    found = re.findall(r'<li data-kind="([a-z_]+)">(.*?)</li>', section, re.S)
    return [(kind, unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip())) for kind, text in found]


def test_history_across_regions_and_notes(
    mail_app, smtp_server, client, login, make_user, make_contact, demo_campaign, regions, monkeypatch
):
    monkeypatch.setitem(mail_app.config, "MAIL_APPROVAL_FOR_REGIONAL", False)
    lea = make_contact(email="lea@example.org", first_name="Léa", last_name="Heuzé", outlet="Alternatives Économiques")
    paca, lr = conference(demo_campaign, regions, "93"), conference(demo_campaign, regions, "91", days=12)
    paca_user, lr_user = make_user("regional", region="93"), make_user("regional", region="91")
    for user, milestone in ((paca_user, paca), (lr_user, lr)):
        mailing = conferences.invite(user, milestone, {"contact_ids": [lea.id], "from_email": "presse@example.org"})
        db.session.commit()
        assert deliver(mail_app, mailing.id).status == "sent"
    followup.record_answer(paca_user, paca, lea.id, "yes", "phone")
    followup.record_answer(lr_user, lr, lea.id, "no", "email")
    for region, title in (("93", "L'ESS en Provence"), ("91", "L'ESS en Languedoc")):
        db.session.add(
            PressClipping(
                campaign_id=demo_campaign.id,
                region_id=regions[region].id,
                outlet="alternatives economiques",
                title=title,
                published_on=date(2008, 11, 5),
            )
        )
    db.session.commit()

    national = make_user("national")
    login(national)
    page = client.get(f"/contacts/{lea.id}").get_data(as_text=True)
    note = client.post(
        f"/contacts/{lea.id}/notes",
        data={"csrf_token": csrf_from(page), "body": "A quitté la rédaction, écrire à redaction@example.org"},
        follow_redirects=True,
    )
    seen = items(note.get_data(as_text=True))
    kinds = [k for k, _ in seen]
    assert kinds[0] == "note" and "A quitté la rédaction" in seen[0][1] and national.label in seen[0][1]
    assert kinds.count("mailing") == 2 and kinds.count("answer") == 2 and kinds.count("coverage") == 2
    mailing_texts = [t for k, t in seen if k == "mailing"]
    assert all("envoyé" in t for t in mailing_texts)  # each with its status
    answer = next(t for k, t in seen if k == "answer" and "« oui »" in t)
    assert "par téléphone" in answer and paca_user.label in answer
    html = note.get_data(as_text=True)
    stamps = re.findall(r'<time datetime="([^"]+)"', html[html.index('id="history"') :])
    assert stamps == sorted(stamps, reverse=True)  # newest first

    sign_out(client)
    login(paca_user)
    page = client.get(f"/contacts/{lea.id}").get_data(as_text=True)
    mine = items(page)
    text = " ".join(t for _, t in mine)
    assert paca.title in text and "L'ESS en Provence" in text and "A quitté la rédaction" in text
    assert lr.title not in text and "L'ESS en Languedoc" not in text and "par e-mail" not in text
    assert [k for k, _ in mine].count("mailing") == 1
    assert 'id="note-form"' not in page  # a national contact: the region reads, it does not write
    token = csrf_from(client.get(f"/contacts/{make_contact(region='93').id}").get_data(as_text=True))
    assert client.post(f"/contacts/{lea.id}/notes", data={"csrf_token": token, "body": "x"}).status_code == 403


def test_bounces_opt_out_and_regional_notes(client, login, make_user, make_contact, regions, app):
    contact = make_contact(region="93", first_name="Marc", collected_at=utcnow() - timedelta(days=30))
    coordinator = make_user("regional", region="93")
    db.session.add(
        BounceEvent(
            fingerprint="f" * 64,
            kind="hard",
            email=contact.email,
            contact_id=contact.id,
            status="5.1.1",
            diagnostic="user unknown",
            source="api",
            received_at=utcnow() - timedelta(days=1),
        )
    )
    contact.opted_out, contact.opted_out_at = True, utcnow()
    db.session.commit()
    login(coordinator)
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    client.post(f"/contacts/{contact.id}/notes", data={"csrf_token": csrf_from(page), "body": ""})
    assert db.session.scalar(select(ContactNote.id)) is None  # an empty note is refused
    client.post(f"/contacts/{contact.id}/notes", data={"csrf_token": csrf_from(page), "body": "Préfère le téléphone"})
    found = items(client.get(f"/contacts/{contact.id}").get_data(as_text=True))
    assert [k for k, _ in found][:3] == ["note", "opt_out", "bounce"]
    assert "5.1.1" in found[2][1] and "Rejet définitif" in found[2][1]
    assert db.session.scalar(select(ContactNote.region_id)) == regions["93"].id
    exported = client.get(f"/contacts/{contact.id}/export.json").get_json()  # GDPR access: notes included
    assert [n["body"] for n in exported["notes"]] == ["Préfère le téléphone"]

    sign_out(client)
    login(make_user("viewer"))
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Préfère le téléphone" in page and 'id="note-form"' not in page

    erase_contact(None, contact)
    db.session.commit()
    assert db.session.scalar(select(ContactNote.id)) is None  # erasure takes the notes too


def test_history_and_notes_through_the_api(api, make_user, make_contact, demo_campaign, regions):
    paca = conference(demo_campaign, regions, "93")
    lr = conference(demo_campaign, regions, "91", days=12)
    lea = make_contact(region=None, first_name="Léa", collected_at=utcnow() - timedelta(days=30))
    national = make_user("national")
    followup.record_answer(national, paca, lea.id, "maybe", "phone")
    followup.record_answer(national, lr, lea.id, "no", "email")
    db.session.commit()
    client = api(national)
    created = client.post(f"/api/v1/contacts/{lea.id}/notes", json={"body": "Écrire plutôt à la rédaction"})
    assert created.status_code == 201 and created.get_json()["author"] == national.label
    assert client.post(f"/api/v1/contacts/{lea.id}/notes", json={"body": ""}).status_code == 422
    found = client.get(f"/api/v1/contacts/{lea.id}/history").get_json()
    assert [i["kind"] for i in found] == ["note", "answer", "answer", "source"]
    assert {i["region"] for i in found if i["kind"] == "answer"} == {"93", "91"}

    regional = api(make_user("regional", region="93")).get(f"/api/v1/contacts/{lea.id}/history").get_json()
    assert [i["region"] for i in regional if i["kind"] == "answer"] == ["93"]
    assert (
        api(make_user("regional", region="93")).post(f"/api/v1/contacts/{lea.id}/notes", json={"body": "x"}).status_code
        == 403
    )
    other = make_contact(region="91")
    assert api(make_user("regional", region="93")).get(f"/api/v1/contacts/{other.id}/history").status_code == 403
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/contacts/{contact_id}/history" in document["paths"]
