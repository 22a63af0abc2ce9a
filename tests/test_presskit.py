"""The press kit PDF: per release (the team's copy with its embargo line while it holds, the public
copy once the release is public), per campaign or region for the newsroom, linked from the release
pages and offered to invitations as `press_kit_url`."""

import io
from datetime import timedelta

from pypdf import PdfReader

from dbtypes import utcnow
from extensions import db
from press import newsroom
from tests.test_mailings import create
from tests.test_printing import printed_programme  # noqa: F401 - the 40 PACA events, 3 in Bretagne


def text(answer) -> str:
    assert answer.status_code == 200 and answer.mimetype == "application/pdf", answer.status_code
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)


def release(user, campaign, **data):
    item, _ = newsroom.save_release(
        user,
        None,
        {
            "title": "Le Mois de l'ESS ouvre en Provence",
            "city": "Marseille",
            "lead": "Quarante rendez-vous en novembre.",
            "body": "Premier paragraphe.\n\nSecond paragraphe.",
            "press_contact": "Sophie Garnier, presse@example.org",
            "ready": True,
            **data,
        },
        campaign,
    )
    db.session.commit()
    return item


def test_release_kit_carries_the_embargo_while_it_holds(app, client, login, make_user, printed_programme):  # noqa: F811
    lead = make_user("regional", region="93")
    item = release(lead, printed_programme, embargo_until=utcnow() + timedelta(days=2))
    assert client.get(f"/newsroom/{item.id}/press-kit.pdf").status_code == 404  # not public yet

    login(lead)
    page = client.get(f"/press/releases/{item.id}").get_data(as_text=True)
    assert f'href="/press/releases/{item.id}/press-kit.pdf"' in page
    kit = text(client.get(f"/press/releases/{item.id}/press-kit.pdf"))
    assert "INFORMATIONS SOUS EMBARGO JUSQU" in kit
    assert "Le Mois de l’ESS ouvre en Provence" in kit and "Second paragraphe" in kit
    assert "Sophie Garnier" in kit  # press contacts
    assert "L’événement en chiffres" in kit and "40" in kit  # key figures of the region
    assert "Rencontre PACA 01" in kit and "Bretagne" not in kit  # the region's programme only
    assert "MACIF" in kit  # partners

    item.embargo_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    public = client.get(f"/newsroom/{item.id}")
    assert f'href="/newsroom/{item.id}/press-kit.pdf"' in public.get_data(as_text=True)
    kit = text(client.get(f"/newsroom/{item.id}/press-kit.pdf"))
    assert "EMBARGO" not in kit and "Pour diffusion immédiate" in kit


def test_other_regions_cannot_read_a_release_kit(app, client, login, make_user, printed_programme):  # noqa: F811
    item = release(make_user("regional", region="93"), printed_programme, embargo_until=utcnow() + timedelta(days=2))
    login(make_user("regional", region="53"))
    assert client.get(f"/press/releases/{item.id}/press-kit.pdf").status_code in (403, 404)


def test_newsroom_kit_national_and_regional_with_etag(client, make_user, printed_programme):  # noqa: F811
    release(make_user("national"), printed_programme, title="Lancement national")
    national = client.get(f"/newsroom/press-kit.pdf?campaign={printed_programme.id}")
    kit = text(national)
    assert "Lancement national" in kit and "Par région" in kit and "Bretagne" in kit
    regional = text(client.get(f"/newsroom/press-kit.pdf?campaign={printed_programme.id}&region=53"))
    assert "Rencontre Bretagne 1" in regional and "Rencontre PACA" not in regional
    again = client.get(
        f"/newsroom/press-kit.pdf?campaign={printed_programme.id}", headers={"If-None-Match": national.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/newsroom/press-kit.pdf?region=ZZ").status_code == 404


def test_invitations_can_link_the_regions_press_kit(api, client, make_user, make_contact, printed_programme):  # noqa: F811
    lead = api(make_user("national"))
    person = make_contact(region="93")
    template = lead.post(
        "/api/v1/templates",
        json={
            "name": "Invitation",
            "subject": "Invitation",
            "html": '<p><a href="{{ press_kit_url }}">Dossier</a></p>',
        },
    )
    assert template.status_code == 201, template.get_json()
    mailing = create(lead, [person])
    lead.patch(f"/api/v1/mailings/{mailing['id']}", json={"template_id": template.get_json()["id"]})
    html = lead.get(f"/api/v1/mailings/{mailing['id']}/preview?contact_id={person.id}").get_json()["html"]
    url = f"http://relais.test/newsroom/press-kit.pdf?campaign={printed_programme.id}&amp;region=93"
    assert url in html
    assert "Rencontre PACA 01" in text(client.get(url.removeprefix("http://relais.test").replace("&amp;", "&")))
