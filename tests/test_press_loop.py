"""The follow-up of a press conference: an answer given by phone written down (page and API), a
walk-in added at the door, the attendees as CSV read by LibreOffice, the sign-in sheet, and
readiness that moves with what happened (invitations sent, venue entered)."""

import io
import re
from datetime import datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from accounts.models import Region
from campaign import readiness
from campaign.models import Milestone
from contacts.models import Contact
from contacts.services import save_contact
from contacts.suppression import suppression_reason
from dbtypes import utcnow
from extensions import db
from mailings.models import Delivery
from press import conferences, followup
from press.models import Rsvp
from tests.conftest import csrf_from, sign_out
from tests.test_press import invited
from tests.test_press_helpers import conference, deliver


def row_of(html: str, contact_id: int) -> str:
    match = re.search(rf'<tr data-contact="{contact_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for contact {contact_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_an_answer_given_by_phone_is_written_down_and_counts(
    app, client, login, make_user, make_contact, demo_campaign, regions
):
    milestone = conference(demo_campaign, regions, "93")
    lea = make_contact(first_name="Léa", last_name="Heuzé", region="93", outlet="La Provence")
    marc = make_contact(first_name="Marc", last_name="Aubert", region="93")
    invited(milestone, [lea, marc], [None, None])
    coordinator = make_user("regional", region="93")
    login(coordinator)
    page = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    assert 'data-count="yes">0<' in page and 'data-count="pending">2<' in page
    assert "Noter une réponse reçue par téléphone" in page
    assert page.index("Aubert") < page.index("Heuzé")  # offered by name

    response = client.post(
        f"/press/conferences/{milestone.id}/answers",
        data={"csrf_token": csrf_from(page), "contact_id": str(lea.id), "answer": "yes", "channel": "phone"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Réponse enregistrée." in html
    assert 'data-count="yes">1<' in html and 'data-count="pending">1<' in html
    row = row_of(html, lea.id)
    assert "Oui" in row and "téléphone" in row and f"noté par {coordinator.label}" in row
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.contact_id == lea.id))
    assert (rsvp.channel, rsvp.recorded_by_id, rsvp.recorded_at is not None) == ("phone", coordinator.id, True)

    # a bad answer names its field and writes nothing
    refused = client.post(
        f"/press/conferences/{milestone.id}/answers",
        data={"csrf_token": csrf_from(html), "contact_id": str(marc.id), "answer": "perhaps", "channel": "phone"},
        follow_redirects=True,
    )
    assert "Réponse" in refused.get_data(as_text=True) and conferences.summary(milestone)["pending"] == 1

    # a viewer sees no form and cannot post one
    sign_out(client)
    login(make_user("viewer"))
    page = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    assert "Noter une réponse" not in page and "sign-in-sheet" not in page


def test_recording_answers_through_the_api(app, api, make_user, make_contact, demo_campaign, regions):
    milestone = conference(demo_campaign, regions, "93")
    lea = make_contact(region="93")
    national = make_user("national")
    client = api(national)
    created = client.post(
        f"/api/v1/milestones/{milestone.id}/rsvps", json={"contact_id": lea.id, "answer": "maybe", "channel": "email"}
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["answer"], body["channel"], body["recorded_by"]) == ("maybe", "email", national.label)
    listed = client.get(f"/api/v1/milestones/{milestone.id}/rsvps").get_json()["items"]
    assert [(r["contact_id"], r["answer"], r["channel"]) for r in listed] == [(lea.id, "maybe", "email")]
    assert client.get(f"/api/v1/milestones/{milestone.id}/press-conference").get_json()["maybe"] == 1
    assert conferences.pending_ids(milestone) == [lea.id]  # "maybe" is reminded, as no answer is

    bad = client.post(
        f"/api/v1/milestones/{milestone.id}/rsvps", json={"contact_id": lea.id, "answer": "yes", "channel": "fax"}
    )
    assert bad.status_code == 422 and "channel" in bad.get_json()["error"]["fields"]
    other = make_contact(region="91")
    hidden = client.post(
        f"/api/v1/milestones/{milestone.id}/rsvps", json={"contact_id": 99999, "answer": "yes", "channel": "phone"}
    )
    assert hidden.status_code == 422 and "contact_id" in hidden.get_json()["error"]["fields"]
    regional = api(make_user("regional", region="93"))
    stranger = regional.post(
        f"/api/v1/milestones/{milestone.id}/rsvps", json={"contact_id": other.id, "answer": "yes", "channel": "phone"}
    )
    assert stranger.status_code == 422  # another region's contact is unknown here
    assert (
        api(make_user("viewer"))
        .post(
            f"/api/v1/milestones/{milestone.id}/rsvps", json={"contact_id": lea.id, "answer": "no", "channel": "phone"}
        )
        .status_code
        == 403
    )
    document = client.get("/api/v1/openapi.json").get_json()
    assert "post" in document["paths"]["/api/v1/milestones/{milestone_id}/rsvps"]
    assert "post" in document["paths"]["/api/v1/milestones/{milestone_id}/walk-ins"]


def test_a_walk_in_is_added_with_its_source_and_marked_present(
    app, client, login, make_user, make_contact, demo_campaign, regions
):
    milestone = conference(demo_campaign, regions, "93")
    known = make_contact(email="deja@example.org", first_name="Inès", last_name="Connue", region="93")
    login(make_user("regional", region="93"))
    page = client.get(f"/press/conferences/{milestone.id}/checkin").get_data(as_text=True)
    token = csrf_from(page)
    url = f"/press/conferences/{milestone.id}/walk-ins"

    empty = client.post(url, data={"csrf_token": token, "first_name": "Sans", "last_name": ""})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 200 and 'id="last_name"' in html and 'aria-invalid="true"' in html
    assert 'value="Sans"' in html  # what was typed at the door stays
    assert db.session.scalar(select(Contact).where(Contact.first_name == "Sans")) is None
    bad = client.post(url, data={"csrf_token": token, "last_name": "Mal", "email": "pas-une-adresse"})
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert db.session.scalar(select(Contact).where(Contact.last_name == "Mal")) is None

    added = client.post(
        url,
        data={"csrf_token": token, "first_name": "Paul", "last_name": "Nouveau", "media": "France Bleu Provence"},
        follow_redirects=True,
    )
    html = added.get_data(as_text=True)
    assert "Paul Nouveau ajouté·e et marqué·e présent·e." in html and '<span id="came">1</span>' in html
    paul = db.session.scalar(select(Contact).where(Contact.last_name == "Nouveau"))
    day = re.sub(r"\s+", " ", followup.walk_in_source(milestone))
    assert paul.source == day and day.startswith("sur place, conférence du ")
    assert (paul.legal_basis, paul.kind, paul.region_id) == ("legitimate_interest", "media", regions["93"].id)
    assert paul.organisation.name == "France Bleu Provence"
    assert suppression_reason(paul.email) is None  # a real address given later reaches them
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.contact_id == paul.id))
    assert rsvp.walk_in and rsvp.checked_in_at is not None and rsvp.channel == "in_person"
    twice = client.post(  # a double tap sends the form again: the same person, not a second one
        url,
        data={"csrf_token": token, "first_name": "Paul", "last_name": "NOUVEAU", "media": "France Bleu Provence"},
        follow_redirects=True,
    )
    assert '<span id="came">1</span>' in twice.get_data(as_text=True)
    assert len(db.session.scalars(select(Contact).where(Contact.first_name == "Paul")).all()) == 1

    again = client.post(
        url, data={"csrf_token": token, "last_name": "X", "email": "DEJA@example.org"}, follow_redirects=True
    )
    assert "Inès Connue ajouté·e" in again.get_data(as_text=True)
    assert db.session.scalar(select(Rsvp.checked_in_at).where(Rsvp.contact_id == known.id)) is not None
    assert db.session.scalar(select(Contact).where(Contact.last_name == "X")) is None
    assert conferences.summary(milestone)["came"] == 2

    national = conference(demo_campaign, regions, None)  # the national conference: the region reads it only
    page = client.get(f"/press/conferences/{national.id}/checkin").get_data(as_text=True)
    assert 'id="walk-in"' not in page
    refused = client.post(f"/press/conferences/{national.id}/walk-ins", data={"csrf_token": token, "last_name": "Y"})
    assert refused.status_code == 403 and db.session.scalar(select(Contact).where(Contact.last_name == "Y")) is None


def test_attendees_csv_read_by_libreoffice_and_the_sign_in_sheet(
    app, client, login, make_user, make_contact, demo_campaign, regions
):
    from tests.readers import read_spreadsheet

    milestone = conference(demo_campaign, regions, "93")
    people = [
        make_contact(first_name="Zoé", last_name="Zeller", region="93", outlet="La Provence"),
        make_contact(first_name="Anne", last_name="Abel", region="93", outlet='=HYPERLINK("http://x")'),
        make_contact(first_name="Noé", last_name="Non", region="93"),
    ]
    invited(milestone, people, ["yes", None, "no"])
    national = make_user("national")
    conferences.check_in(national, milestone, people[0].id, True, now=datetime(2008, 9, 11, 8, 5).astimezone())
    db.session.commit()
    login(national)
    exported = client.get(f"/press/conferences/{milestone.id}/attendees.csv")
    assert exported.status_code == 200 and exported.data.startswith("\ufeff".encode())
    header, *rows = read_spreadsheet(exported.data)
    assert header[:5] == ["Nom", "Prénom", "Média", "Adresse e-mail", "Réponse"]
    assert [r[0] for r in rows] == ["Abel", "Non", "Zeller"]  # by name
    cells = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert cells["Zeller"]["Réponse"] == "Oui" and cells["Zeller"]["Venu·e"] is not None
    assert cells["Non"]["Réponse"] == "Non" and cells["Abel"]["Réponse"] == "Pas de réponse"
    assert all(not str(v).startswith("=") for r in rows for v in r if v is not None)

    sheet = client.get(f"/press/conferences/{milestone.id}/sign-in-sheet").get_data(as_text=True)
    listed = re.findall(r'<tr data-contact="(\d+)">', sheet)
    assert listed == [str(people[1].id), str(people[0].id)]  # Abel then Zeller; Non declined
    assert "Signature" in sheet and "@media print" in client.get("/static/css/press.css").get_data(as_text=True)
    assert "ZELLER" in sheet and "La Provence" in sheet
    pdf = client.get(f"/press/conferences/{milestone.id}/sign-in-sheet.pdf")  # WeasyPrint, read by pypdf
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Signature" in text and text.index("ABEL") < text.index("ZELLER") and "NON" not in text

    sign_out(client)
    login(make_user("viewer"))
    assert client.get(f"/press/conferences/{milestone.id}/attendees.csv").status_code == 403
    assert client.get(f"/press/conferences/{milestone.id}/sign-in-sheet.pdf").status_code == 403


def test_readiness_moves_with_what_happened(app, client, login, make_user, make_contact, demo_campaign, regions):
    region = db.session.scalar(select(Region).where(Region.code == "93"))
    milestone = db.session.scalar(
        select(Milestone).where(Milestone.region_id == region.id, Milestone.kind == "regional_press_conference")
    )
    milestone.venue, milestone.city = "", ""
    for m in db.session.scalars(select(Milestone).where(Milestone.region_id == region.id)):
        m.status = "planned"  # an edition being prepared: nothing done yet
    db.session.commit()

    def steps():
        return {s.key: s for s in readiness.region_steps(demo_campaign, region)}

    before = steps()
    assert not before["venue_booked"].done and not before["invitations_sent"].done
    national = make_user("national")
    login(national)
    page = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    client.post(
        f"/press/conferences/{milestone.id}",
        data={"csrf_token": csrf_from(page), "venue": "Club de la Presse", "city": "Marseille"},
    )
    assert steps()["venue_booked"].done and "Club de la Presse" in steps()["venue_booked"].evidence

    make_contact(region="93", kind="media")
    milestone.starts_at = utcnow() + timedelta(days=10)  # invitations go before the conference
    db.session.commit()
    conferences.invite(national, milestone, {"from_email": "presse@example.org"})
    db.session.commit()
    after = steps()
    assert after["invitations_sent"].done and after["invitations_sent"].evidence.startswith("Invitations envoyées")
    done = readiness.readiness_by_region(demo_campaign, [region], utcnow())[region.id]["done"]
    assert done == sum(s.done for s in before.values()) + 2
    assert not after["follow_up_calls"].done
    conferences.remind(national, milestone, {"from_email": "presse@example.org"})
    db.session.commit()
    assert steps()["follow_up_calls"].evidence.startswith("Relance envoyée")
    page = client.get("/regions/93/readiness").get_data(as_text=True)
    assert "Constaté — Invitations envoyées" in page and "Constaté — Lieu : Club de la Presse" in page


def test_a_walk_in_without_address_is_never_written_to(
    mail_app, smtp_server, make_user, make_contact, demo_campaign, regions
):
    milestone = conference(demo_campaign, regions, "93")
    national = make_user("national")
    paul = followup.add_walk_in(national, milestone, {"first_name": "Paul", "last_name": "Nouveau", "media": "Radio"})
    lea = make_contact(email="lea@example.org", region="93")
    db.session.commit()
    nxt = conference(demo_campaign, regions, "91", days=12)  # the next conference invites them both
    mailing = conferences.invite(national, nxt, {"contact_ids": [paul.id, lea.id], "from_email": "presse@example.org"})
    db.session.commit()
    assert deliver(mail_app, mailing.id).status == "sent"
    assert set(smtp_server.by_recipient()) == {"lea@example.org"}
    skipped = db.session.scalar(select(Delivery).where(Delivery.contact_id == paul.id))
    assert skipped.status == "skipped" and "pas d'adresse" in skipped.last_error

    paul = db.session.get(Contact, paul.id)  # the address they give later is used
    save_contact(national, paul, {"email": "paul@example.org"})
    db.session.commit()
    assert not paul.bounced and not paul.opted_out
