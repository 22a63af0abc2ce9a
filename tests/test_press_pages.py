"""Press pages signed in: releases (create, bad input, move the embargo), relay kits, and the demo."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from dbtypes import utcnow
from extensions import db
from press import newsroom
from press.models import PressConference, PressRelease, RelayKit
from tests.conftest import csrf_from


def test_release_pages(app, client, login, make_user, make_contact, demo_campaign):
    login(make_user("national"))
    page = client.get("/press/releases").get_data(as_text=True)
    bad = client.post("/press/releases", data={"csrf_token": csrf_from(page), "title": "", "region": ""})
    assert bad.status_code == 200 and 'id="title-error"' in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PressRelease)) == 0
    created = client.post(
        "/press/releases",
        data={
            "csrf_token": csrf_from(page),
            "title": "Lancement",
            "lead": "Chapeau",
            "body": "Texte",
            "embargo_until": "2030-09-09T12:00",
            "region": "",
            "follows_national": "",
            "ready": "y",
        },
    )
    assert created.status_code == 302
    item = db.session.scalar(select(PressRelease))
    detail = client.get(created.location).get_data(as_text=True)
    assert "INFORMATIONS SOUS EMBARGO JUSQU&#39;AU 9 SEPTEMBRE 2030 À 12H" in detail
    assert newsroom.is_public(item, utcnow()) is False

    make_contact(kind="media")
    scheduled = client.post(
        f"/press/releases/{item.id}/mail",
        data={
            "csrf_token": csrf_from(detail),
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "send_at": "2030-09-09T12:30",
        },
        follow_redirects=True,
    )
    assert "Envoi programmé" in scheduled.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PressRelease, item.id).mailing.status == "scheduled"

    moved = client.post(
        f"/press/releases/{item.id}",
        data={
            "csrf_token": csrf_from(detail),
            "title": "Lancement",
            "lead": "Chapeau",
            "body": "Texte",
            "embargo_until": "2030-09-09T14:00",
            "follows_national": "",
            "ready": "y",
        },
        follow_redirects=True,
    )
    assert "Communiqué enregistré" in moved.get_data(as_text=True)
    db.session.expire_all()
    mailing = db.session.get(PressRelease, item.id).mailing  # journalists get it under embargo: it prints the new one
    assert mailing.embargo_until == db.session.get(PressRelease, item.id).embargo_until
    assert mailing.embargo_until.hour == 12  # 14:00 in Paris (summer time) is 12:00 UTC


def test_relay_kit_pages(app, client, login, make_user, make_contact, demo_campaign):
    login(make_user("national"))
    page = client.get("/press/relay/").get_data(as_text=True)
    bad = client.post("/press/relay/", data={"csrf_token": csrf_from(page), "title": "Kit", "links": "pas une adresse"})
    assert 'id="links-error"' in bad.get_data(as_text=True)
    made = client.post(
        "/press/relay/",
        data={"csrf_token": csrf_from(page), "title": "Kit", "texts": "Texte", "links": "https://example.org"},
    )
    kit_page = client.get(made.location).get_data(as_text=True)
    assert "Envoyer à 0 partenaires et réseaux" in kit_page


def test_demo_load_adds_press_relations_once(app, runner, client):
    for _ in range(2):
        result = runner.invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(PressRelease)) == 2
    assert db.session.scalar(select(func.count()).select_from(RelayKit)) == 1
    assert db.session.scalar(select(func.count()).select_from(PressConference)) == 2
    page = client.get("/newsroom").get_data(as_text=True)
    assert "premier Mois de l&#39;économie sociale et solidaire" in page
    assert "Languedoc-Roussillon : le Mois de l&#39;ESS" in page
    for item in db.session.scalars(select(PressRelease)):
        assert "example.org" in item.press_contact
    embargoes = select(PressRelease.embargo_until).where(PressRelease.embargo_until.is_not(None))
    assert utcnow() - timedelta(days=1) > db.session.scalar(embargoes.limit(1))


def test_a_conference_invitation_leaves_from_the_regions_sender_identity(
    app, client, login, make_user, make_contact, demo_campaign, regions
):
    """The invitation form offers the region's identities (its own first), as every mailing form
    does; the reminder keeps the invitation's sender."""
    from mailings.identities import SenderIdentity
    from mailings.models import Mailing
    from tests.test_press_helpers import conference

    milestone = conference(demo_campaign, regions, "93")
    identity = SenderIdentity(region_id=regions["93"].id, name="CRESS PACA presse", email="presse.93@example.org")
    db.session.add(identity)
    db.session.commit()
    make_contact(email="lea@example.org", region="93", kind="media")
    login(make_user("regional", region="93"))
    page = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    assert 'name="sender_id"' in page and "presse.93@example.org" in page and 'name="from_email"' not in page
    answer = client.post(
        f"/press/conferences/{milestone.id}/invite",
        data={"csrf_token": csrf_from(page), "sender_id": str(identity.id)},
    )
    assert answer.status_code == 302
    said = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    mailing = db.session.scalar(select(Mailing).where(Mailing.milestone_id == milestone.id))
    assert mailing is not None, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', said)
    assert (mailing.from_name, mailing.from_email) == ("CRESS PACA presse", "presse.93@example.org")
    assert mailing.status == "submitted"  # a regional invitation waits for national approval


def test_an_invitation_prepared_as_a_draft_lets_the_audience_be_chosen_before_it_goes(
    app, api, client, login, make_user, make_contact, demo_campaign, regions
):
    """ "Choisir les destinataires…": the invitation is a draft tied to the conference, addressed to the
    region's media, whose edit page changes the audience and whose recipient list shows who gets it."""
    from mailings.models import Mailing
    from tests.test_press_helpers import conference

    milestone = conference(demo_campaign, regions, "93")
    media = make_contact(email="lea@example.org", last_name="Daily", region="93", kind="media")
    partner = make_contact(email="asso@example.org", last_name="Partenaire", region="93", kind="partner")
    lead = make_user("national")
    login(lead)
    page = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    assert "Choisir les destinataires…" in page
    answer = client.post(
        f"/press/conferences/{milestone.id}/prepare",
        data={"csrf_token": csrf_from(page), "from_name": "Presse", "from_email": "presse@example.org"},
    )
    mailing = db.session.scalar(select(Mailing).where(Mailing.milestone_id == milestone.id))
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/mailings/{mailing.id}/edit")
    assert mailing.status == "draft" and mailing.audience["contact_ids"] == [media.id]
    edit = client.get(f"/mailings/{mailing.id}/edit")
    assert edit.status_code == 200 and "lea@example.org" in edit.get_data(as_text=True)  # picked by name
    changed = api(lead).patch(
        f"/api/v1/mailings/{mailing.id}", json={"audience": {"contact_ids": [media.id, partner.id]}}
    )
    assert changed.status_code == 200, changed.get_json()
    shown = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert "asso@example.org" in shown and "lea@example.org" in shown  # the recipient list, before sending
