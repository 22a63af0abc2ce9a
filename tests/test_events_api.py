"""The events API exactly as the contract says, with the moderation transitions and region scoping."""

from sqlalchemy import select

from campaign.models import Event
from extensions import db
from tests.fixtures_mail import body

CONTRACT_FIELDS = {
    "id",
    "campaign_id",
    "region",
    "title",
    "type",
    "themes",
    "starts_at",
    "ends_at",
    "city",
    "venue",
    "organiser",
    "status",
}
NEW = {
    "region": "91",
    "title": "Colloque utilité sociale",
    "type": "Colloque",
    "themes": ["Économie et utilité sociale"],
    "starts_at": "2008-11-06T09:00",
    "ends_at": "2008-11-06T17:00",
    "city": "Montpellier",
    "venue": "Corum",
    "organiser": "CRES Languedoc-Roussillon",
}


def test_create_list_get_patch_delete(app, api, make_user, demo_campaign):
    client = api(make_user("regional", region="91"))
    created = client.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json=NEW)
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert set(event) >= CONTRACT_FIELDS
    assert event["region"] == "91" and event["status"] == "approved" and event["campaign_id"] == demo_campaign.id
    assert event["starts_at"] == "2008-11-06T09:00:00+01:00"  # read and shown in the campaign's zone
    listing = client.get(f"/api/v1/campaigns/{demo_campaign.id}/events").get_json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["per_page"] == 50
    assert client.get(f"/api/v1/events/{event['id']}").get_json()["title"] == NEW["title"]
    patched = client.patch(f"/api/v1/events/{event['id']}", json={"city": "Nîmes"})
    assert patched.status_code == 200 and patched.get_json()["city"] == "Nîmes"
    assert client.delete(f"/api/v1/events/{event['id']}").status_code == 204
    assert client.get(f"/api/v1/events/{event['id']}").status_code == 404


def test_validation_names_the_field(app, api, make_user, demo_campaign):
    client = api(make_user("national"))
    url = f"/api/v1/campaigns/{demo_campaign.id}/events"
    for change, field in (
        ({"type": "Concert"}, "type"),
        ({"themes": ["Inconnu"]}, "themes"),
        ({"region": "99"}, "region"),
        ({"ends_at": "2008-11-05T09:00"}, "ends_at"),
        ({"title": ""}, "title"),
    ):
        response = client.post(url, json={**NEW, **change})
        assert response.status_code == 422, (change, response.get_json())
        assert field in response.get_json()["error"]["fields"], (change, response.get_json())
    assert db.session.scalar(select(Event.id)) is None


def test_regions_are_scoped(app, api, make_user, demo_campaign):
    national = api(make_user("national"))
    event = national.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json=NEW).get_json()
    other = api(make_user("regional", region="93"))
    assert other.get(f"/api/v1/events/{event['id']}").status_code == 403
    assert other.patch(f"/api/v1/events/{event['id']}", json={"city": "Marseille"}).status_code == 403
    assert other.delete(f"/api/v1/events/{event['id']}").status_code == 403
    assert other.post(f"/api/v1/events/{event['id']}/reject", json={"reason": "non"}).status_code == 403
    assert other.get(f"/api/v1/campaigns/{demo_campaign.id}/events").get_json()["total"] == 0
    assert other.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json=NEW).status_code == 403
    viewer = api(make_user("viewer"))
    assert viewer.get(f"/api/v1/events/{event['id']}").status_code == 200
    assert viewer.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json=NEW).status_code == 403


def test_moderation_transitions(app, api, make_user, demo_campaign, inbox):  # noqa: F811
    client = api(make_user("regional", region="91"))
    proposed = client.post(
        f"/api/v1/campaigns/{demo_campaign.id}/events",
        json={**NEW, "status": "proposed", "organiser_email": "orga@example.org"},
    ).get_json()
    assert proposed["status"] == "proposed"
    url = f"/api/v1/events/{proposed['id']}"
    missing = client.post(f"{url}/reject", json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    approved = client.post(f"{url}/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    again = client.post(f"{url}/approve")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    no_reason = client.patch(url, json={"status": "rejected"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    withdrawn = client.patch(url, json={"status": "rejected", "rejection_reason": "Annulé par l'organisateur."})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["rejection_reason"] == "Annulé par l'organisateur."
    subjects = [m["Subject"] for m in inbox.to("orga@example.org")]
    assert len(subjects) == 2 and "publié" in subjects[0] and "pas été retenue" in subjects[1]
    assert "Annulé par l'organisateur." in body(inbox.to("orga@example.org")[1])


def test_openapi_documents_events(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/campaigns/{campaign_id}/events"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/events/{event_id}"])
    assert "post" in paths["/api/v1/events/{event_id}/approve"] and "post" in paths["/api/v1/events/{event_id}/reject"]


def test_nul_characters_are_refused_not_a_500(app, api, make_user, demo_campaign, client):
    national = api(make_user("national"))
    response = national.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json={**NEW, "title": "Colloque\x00"})
    assert response.status_code == 422 and "title" in response.get_json()["error"]["fields"]
    assert national.get(f"/api/v1/campaigns/{demo_campaign.id}/events?region=%00").status_code == 422
    assert client.get("/programme?theme=%00").status_code == 422  # refused up front, for pages too
