"""The JSON API for regions, campaigns and milestones, as the contract says."""

from campaign.models import Milestone
from extensions import db


def assert_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if field:
        assert field in body["error"]["fields"], body


def test_no_or_bad_token_is_401(client, demo_campaign):
    assert_error(client.get("/api/v1/campaigns"), 401, "unauthorized")
    assert_error(client.get("/api/v1/campaigns", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


def test_regions_are_listed_with_the_envelope(api, make_user):
    body = api(make_user("viewer")).get("/api/v1/regions?per_page=5&page=2").get_json()
    assert (body["page"], body["per_page"], body["total"]) == (2, 5, 20)
    assert [r["code"] for r in body["items"]] == ["26", "31", "41", "42", "43"]
    assert body["items"][1]["name"] == "Nord-Pas de Calais"


def test_campaign_lifecycle(api, make_user):
    lead = api(make_user("national"))
    created = lead.post("/api/v1/campaigns", json={"name": "Essai", "starts_on": "2009-05-01", "ends_on": "2009-11-30"})
    assert created.status_code == 201
    campaign = created.get_json()
    assert campaign["timezone"] == "Europe/Paris" and campaign["calendar_url"].endswith(".ics")
    assert "/calendar/" in campaign["calendar_url"]
    patched = lead.patch(f"/api/v1/campaigns/{campaign['id']}", json={"name": "Essai 2009"})
    assert patched.get_json()["name"] == "Essai 2009"
    listed = lead.get("/api/v1/campaigns").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == campaign["id"]
    assert lead.delete(f"/api/v1/campaigns/{campaign['id']}").status_code == 204
    assert_error(lead.get(f"/api/v1/campaigns/{campaign['id']}"), 404, "not_found")


def test_campaign_validation_names_the_fields(api, make_user):
    lead = api(make_user("national"))
    assert_error(lead.post("/api/v1/campaigns", json={"name": "Sans dates"}), 422, "validation_failed", "starts_on")
    assert_error(
        lead.post("/api/v1/campaigns", json={"name": "X", "starts_on": "2009-05-01", "ends_on": "2009-01-01"}),
        422,
        "validation_failed",
        "ends_on",
    )
    assert_error(
        lead.post(
            "/api/v1/campaigns",
            json={"name": "X", "starts_on": "2009-05-01", "ends_on": "2009-06-01", "timezone": "Mars/Olympus"},
        ),
        422,
        "validation_failed",
        "timezone",
    )
    assert_error(lead.post("/api/v1/campaigns", data="{not json", content_type="application/json"), 400, "bad_request")
    assert_error(
        api(make_user("viewer")).post(
            "/api/v1/campaigns", json={"name": "X", "starts_on": "2009-05-01", "ends_on": "2009-06-01"}
        ),
        403,
        "forbidden",
    )


def test_from_playbook_builds_the_timeline(api, make_user, regions):
    lead = api(make_user("national"))
    response = lead.post(
        "/api/v1/campaigns/from-playbook",
        json={
            "name": "Mois de l'ESS 2009",
            "ag_date": "2009-06-18",
            "event_month_start": "2009-11-01",
            "regions": ["53", "93", "82"],
        },
    )
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    conferences = lead.get(f"/api/v1/campaigns/{campaign['id']}/milestones?kind=regional_press_conference").get_json()
    assert sorted(m["region"] for m in conferences["items"]) == ["53", "82", "93"]
    national = lead.get(f"/api/v1/campaigns/{campaign['id']}/milestones?kind=national_press_conference").get_json()[
        "items"
    ][0]
    assert national["starts_at"] == "2009-09-08T10:00:00+02:00"
    assert_error(
        lead.post(
            "/api/v1/campaigns/from-playbook",
            json={"name": "X", "ag_date": "2009-06-18", "event_month_start": "2009-11-01", "regions": ["99"]},
        ),
        422,
        "validation_failed",
        "region",
    )


def test_milestone_crud_with_computed_fields(api, make_user, demo_campaign):
    lead = api(make_user("national"))
    national = next(m for m in demo_campaign.milestones if m.kind == "national_press_conference")
    created = lead.post(
        f"/api/v1/campaigns/{demo_campaign.id}/milestones",
        json={
            "kind": "regional_press_conference",
            "title": "Conférence bis",
            "starts_at": "2008-10-02T10:00:00",
            "region": "53",
            "depends_on": [national.id],
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["starts_at"] == "2008-10-02T10:00:00+02:00" and body["region"] == "53" and body["status"] == "planned"
    assert body["late"] is True and [w["code"] for w in body["warnings"]] == ["outside_press_week"]
    assert body["depends_on"] == [national.id]
    done = lead.patch(f"/api/v1/milestones/{body['id']}", json={"status": "done", "starts_at": "2008-09-11T10:00:00Z"})
    assert done.get_json()["late"] is False and done.get_json()["warnings"] == []
    assert lead.get(f"/api/v1/milestones/{body['id']}").get_json()["starts_at"] == "2008-09-11T12:00:00+02:00"
    assert lead.delete(f"/api/v1/milestones/{body['id']}").status_code == 204
    assert db.session.get(Milestone, body["id"]) is None


def test_milestone_validation_and_pagination(api, make_user, demo_campaign):
    lead = api(make_user("national"))
    url = f"/api/v1/campaigns/{demo_campaign.id}/milestones"
    assert_error(
        lead.post(url, json={"kind": "party", "title": "X", "starts_at": "2008-10-02T10:00"}),
        422,
        "validation_failed",
        "kind",
    )
    assert_error(lead.post(url, json={"kind": "other", "title": "X"}), 422, "validation_failed", "starts_at")
    assert_error(
        lead.post(url, json={"kind": "other", "title": "X", "starts_at": "demain"}),
        422,
        "validation_failed",
        "starts_at",
    )
    assert_error(
        lead.post(url, json={"kind": "other", "title": "X", "starts_at": "2008-10-02T10:00", "colour": "red"}),
        422,
        "validation_failed",
        "colour",
    )
    assert_error(
        lead.post(url, json={"kind": "other", "title": "X", "starts_at": "2008-10-02T10:00", "depends_on": [999999]}),
        422,
        "validation_failed",
        "depends_on",
    )
    assert_error(lead.get("/api/v1/milestones/999999"), 404, "not_found")
    assert_error(lead.get(f"{url}?per_page=0"), 422, "validation_failed", "per_page")
    first = lead.get(f"{url}?per_page=10").get_json()
    second = lead.get(f"{url}?per_page=10&page=2").get_json()
    assert first["total"] == len(demo_campaign.milestones) and len(first["items"]) == 10
    assert not {m["id"] for m in first["items"]} & {m["id"] for m in second["items"]}


def test_openapi_document_is_generated_from_the_code(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/v1/regions",
        "/api/v1/campaigns",
        "/api/v1/campaigns/{campaign_id}",
        "/api/v1/campaigns/from-playbook",
        "/api/v1/campaigns/{campaign_id}/milestones",
        "/api/v1/milestones/{milestone_id}",
    ):
        assert path in doc["paths"], path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    milestone = doc["components"]["schemas"]["Milestone"]["properties"]
    assert {"late", "warnings", "depends_on", "region", "status"} <= set(milestone)


def test_nul_characters_are_refused_naming_the_field(api, make_user, client, demo_campaign):
    lead = api(make_user("national"))
    assert_error(lead.get("/api/v1/contacts?q=a%00b"), 422, "validation_failed", "q")
    assert_error(
        lead.post(
            f"/api/v1/campaigns/{demo_campaign.id}/milestones",
            json={"kind": "other", "title": "a\x00b", "starts_at": "2008-10-01T10:00"},
        ),
        422,
        "validation_failed",
        "title",
    )
    assert client.get("/programme?region=9%003").status_code == 422
