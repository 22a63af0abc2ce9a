"""Conference pages: details, attendance and check-in (also from a phone), the national side-by-side
view, regional scoping, and the press API with its OpenAPI document."""

from datetime import timedelta

from extensions import db
from press import conferences
from press.models import Rsvp
from tests.conftest import csrf_from
from tests.test_press_helpers import conference


def invited(milestone, contacts, answers):
    for contact, answer in zip(contacts, answers, strict=True):
        db.session.add(
            Rsvp(
                milestone_id=milestone.id,
                contact_id=contact.id,
                answer=answer,
                answered_at=milestone.starts_at - timedelta(days=3) if answer else None,
            )
        )
    db.session.commit()


def test_conference_page_and_phone_check_in(app, client, login, make_user, make_contact, demo_campaign, regions):
    milestone = conference(demo_campaign, regions, "93", days=0.01)
    people = [make_contact(first_name=n, last_name="Martin", region="93") for n in ("Ana", "Bob", "Cléo")]
    invited(milestone, people, ["yes", "no", None])
    login(make_user("regional", region="93"))
    page = client.get(f"/press/conferences/{milestone.id}").get_data(as_text=True)
    assert 'data-count="yes">1<' in page and 'data-count="pending">1<' in page

    save = client.post(
        f"/press/conferences/{milestone.id}",
        data={
            "csrf_token": csrf_from(page),
            "venue": "Club de la Presse",
            "city": "Marseille",
            "address": "1 rue de l'Exemple",
            "speakers": "Marie Exemple, présidente\nJean Modèle, délégué",
            "notes": "",
        },
    )
    assert save.status_code == 302
    assert conferences.details(milestone).speaker_list == ["Marie Exemple, présidente", "Jean Modèle, délégué"]

    phone = client.get(f"/press/conferences/{milestone.id}/checkin", headers={"User-Agent": "Mobile Safari"})
    html = phone.get_data(as_text=True)
    assert 'name="viewport"' in html and "js/press-checkin.js" in html and "<script>" not in html
    answer = client.post(
        f"/press/conferences/{milestone.id}/checkin/{people[0].id}",
        data={"csrf_token": csrf_from(html), "present": "1"},
        follow_redirects=True,
    )
    assert '<span id="came">1</span>' in answer.get_data(as_text=True)
    stranger = make_contact(region="93")
    refused = client.post(
        f"/press/conferences/{milestone.id}/checkin/{stranger.id}",
        data={"csrf_token": csrf_from(html), "present": "1"},
        follow_redirects=True,
    )
    assert "pas été invité" in refused.get_data(as_text=True)
    assert conferences.summary(milestone)["came"] == 1

    other = conference(demo_campaign, regions, "91")
    assert client.get(f"/press/conferences/{other.id}").status_code == 403


def test_national_view_side_by_side(app, client, login, make_user, make_contact, demo_campaign, regions, api):
    paca, lr = conference(demo_campaign, regions, "93"), conference(demo_campaign, regions, "91")
    invited(paca, [make_contact(region="93") for _ in range(3)], ["yes", "yes", None])
    invited(lr, [make_contact(region="91") for _ in range(2)], ["no", None])
    user = make_user("national")
    login(user)
    page = client.get("/press/").get_data(as_text=True)
    assert page.count("<tr data-region=") == 21  # the national conference and twenty regional ones
    rows = {r["region"]: r for r in api(user).get("/api/v1/press-conferences").get_json()}
    assert len(rows) == 21
    assert {k: rows["93"][k] for k in ("invited", "yes", "no", "pending")} == {
        "invited": 3,
        "yes": 2,
        "no": 0,
        "pending": 1,
    }
    assert {k: rows["91"][k] for k in ("invited", "yes", "no", "pending")} == {
        "invited": 2,
        "yes": 0,
        "no": 1,
        "pending": 1,
    }
    regional = api(make_user("regional", region="93")).get("/api/v1/press-conferences").get_json()
    assert {r["region"] for r in regional} == {None, "93"}


def test_press_api_and_its_document(app, api, make_user, make_contact, demo_campaign, regions):
    user = make_user("national")
    client = api(user)
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/milestones/{milestone_id}/rsvps" in document["paths"]
    rsvp_schema = document["components"]["schemas"]["Rsvp"]["properties"]
    assert {"contact_id", "answer", "answered_at"} <= set(rsvp_schema)
    for path in (
        "/api/v1/press-releases",
        "/api/v1/relay-kits",
        "/api/v1/mailings/{mailing_id}/pressure",
        "/api/v1/milestones/{milestone_id}/invitations",
        "/api/v1/milestones/{milestone_id}/reminders",
    ):
        assert path in document["paths"]

    milestone = conference(demo_campaign, regions, "93")
    assert client.get(f"/api/v1/milestones/{milestone.id}/rsvps").get_json() == {
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }
    patched = client.patch(
        f"/api/v1/milestones/{milestone.id}/press-conference",
        json={"speakers": ["Marie Exemple"], "address": "1 rue de l'Exemple"},
    )
    assert patched.get_json()["speakers"] == ["Marie Exemple"]
    assert client.get("/api/v1/milestones/1/rsvps").status_code in (404, 200)

    created = client.post(
        "/api/v1/press-releases", json={"title": "Lancement", "embargo_until": "2030-09-09T10:00:00", "ready": True}
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["embargo_until"].startswith("2030-09-09T10:00:00+02:00") and body["public"] is False
    bad = client.post("/api/v1/press-releases", json={"title": "", "follows_national_id": 0})
    assert bad.status_code == 422 and {"title", "follows_national_id"} <= set(bad.get_json()["error"]["fields"])
    tied = client.post(
        "/api/v1/press-releases", json={"title": "PACA", "region": "93", "follows_national_id": body["id"]}
    ).get_json()
    assert tied["effective_embargo"] == body["embargo_until"]
    moved = client.patch(f"/api/v1/press-releases/{body['id']}", json={"embargo_until": "2030-09-10T10:00:00"})
    assert moved.status_code == 200
    assert client.get(f"/api/v1/press-releases/{tied['id']}").get_json()["effective_embargo"].startswith("2030-09-10")

    kit = client.post("/api/v1/relay-kits", json={"title": "Kit", "links": ["ftp://nope"]})
    assert kit.status_code == 422 and "links" in kit.get_json()["error"]["fields"]
    kit = client.post("/api/v1/relay-kits", json={"title": "Kit", "links": ["https://example.org"]}).get_json()
    assert kit["reports"] == [] and kit["links"] == ["https://example.org"]
    assert client.post(f"/api/v1/relay-kits/{kit['id']}/send", json={}).status_code == 422  # no partner yet
    assert client.post(f"/api/v1/milestones/{milestone.id}/invitations", json={}).status_code == 422  # no media yet


def test_erasing_a_contact_erases_its_answers_and_reports(app, make_user, make_contact, demo_campaign, regions):
    from sqlalchemy import func, select

    from contacts.services import erase_contact
    from press import relay
    from press.models import RelayReport

    milestone = conference(demo_campaign, regions, "93")
    person, other = make_contact(region="93"), make_contact(region="93")
    invited(milestone, [person, other], ["yes", "no"])
    kit = relay.save_kit(make_user("national"), None, {"title": "Kit"}, demo_campaign)
    db.session.add(RelayReport(kit_id=kit.id, contact_id=person.id, channel="Site", relayed_on=milestone.starts_at))
    db.session.commit()
    erase_contact(None, person)
    db.session.commit()
    assert db.session.scalars(select(Rsvp.contact_id)).all() == [other.id]
    assert db.session.scalar(select(func.count()).select_from(RelayReport)) == 0
