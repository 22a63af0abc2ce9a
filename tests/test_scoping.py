"""Region scoping: a regional coordinator reads national and its own region, writes only its own."""

from campaign.models import Milestone
from extensions import db
from tests.conftest import csrf_from
from tests.test_press_helpers import regional_conference


def test_regional_coordinator_cannot_change_another_region_through_the_page(client, login, make_user, demo_campaign):
    login(make_user("regional", region="93"))
    other = regional_conference(demo_campaign, "53")
    assert client.get(f"/milestones/{other.id}/edit").status_code == 403
    form = client.get(f"/milestones/{regional_conference(demo_campaign, '93').id}/edit")
    assert form.status_code == 200
    token = csrf_from(form.get_data(as_text=True))
    response = client.post(
        f"/milestones/{other.id}/edit",
        data={
            "csrf_token": token,
            "title": "Pris",
            "kind": "other",
            "region": "53",
            "status": "done",
            "owner_id": "0",
            "starts_at": "2008-09-11T10:00",
        },
    )
    assert response.status_code == 403
    assert client.post(f"/milestones/{other.id}/done", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/milestones/{other.id}/delete", data={"csrf_token": token}).status_code == 403
    db.session.refresh(other)
    assert other.title == "Conférence de presse — Bretagne"


def test_regional_coordinator_cannot_move_its_milestone_to_another_region_or_national(
    client, login, make_user, demo_campaign
):
    login(make_user("regional", region="93"))
    own = regional_conference(demo_campaign, "93")
    page = client.get(f"/milestones/{own.id}/edit").get_data(as_text=True)
    region_select = page.split('id="region"', 1)[1].split("</select>", 1)[0]
    assert region_select.count("<option") == 1 and 'value="93"' in region_select  # only its own region is offered
    response = client.post(
        f"/milestones/{own.id}/edit",
        data={
            "csrf_token": csrf_from(page),
            "title": own.title,
            "kind": own.kind,
            "region": "53",
            "status": "done",
            "owner_id": "0",
            "starts_at": "2008-09-11T10:00",
        },
    )
    assert response.status_code == 200 and 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.refresh(own)
    assert own.region.code == "93"


def test_regional_coordinator_through_the_api(api, make_user, demo_campaign):
    paca = api(make_user("regional", region="93"))
    other, own = regional_conference(demo_campaign, "53"), regional_conference(demo_campaign, "93")
    national = next(m for m in demo_campaign.milestones if m.kind == "national_press_conference")
    forbidden = paca.patch(f"/api/v1/milestones/{other.id}", json={"title": "Pris"})
    assert forbidden.status_code == 403 and forbidden.get_json()["error"]["code"] == "forbidden"
    assert paca.get(f"/api/v1/milestones/{other.id}").status_code == 403
    assert paca.patch(f"/api/v1/milestones/{national.id}", json={"title": "Pris"}).status_code == 403
    assert paca.get(f"/api/v1/milestones/{national.id}").status_code == 200  # reads national
    assert (
        paca.patch(f"/api/v1/milestones/{own.id}", json={"venue": "Maison de l'ESS", "city": "Marseille"}).status_code
        == 200
    )
    assert paca.patch(f"/api/v1/milestones/{own.id}", json={"region": "53"}).status_code == 403
    assert (
        paca.post(
            f"/api/v1/campaigns/{demo_campaign.id}/milestones",
            json={"kind": "other", "title": "X", "starts_at": "2008-10-01T10:00"},
        ).status_code
        == 403
    )
    made = paca.post(
        f"/api/v1/campaigns/{demo_campaign.id}/milestones",
        json={"kind": "other", "title": "Apéro presse", "starts_at": "2008-10-01T10:00", "region": "93"},
    )
    assert made.status_code == 201
    listed = paca.get(f"/api/v1/campaigns/{demo_campaign.id}/milestones?per_page=500").get_json()["items"]
    assert {m["region"] for m in listed} == {None, "93"}
    db.session.expire_all()
    assert db.session.get(Milestone, other.id).title == "Conférence de presse — Bretagne"


def test_viewer_reads_everything_and_writes_nothing(client, login, api, make_user, demo_campaign):
    viewer = make_user("viewer")
    own = regional_conference(demo_campaign, "93")
    assert api(viewer).patch(f"/api/v1/milestones/{own.id}", json={"title": "X"}).status_code == 403
    assert api(viewer).get(f"/api/v1/campaigns/{demo_campaign.id}/milestones").get_json()["total"] == len(
        demo_campaign.milestones
    )
    login(viewer)
    assert client.get(f"/campaigns/{demo_campaign.id}/milestones/new").status_code == 403
    assert client.get(f"/milestones/{own.id}/edit").status_code == 403


def test_regional_pages_hide_other_regions(client, login, make_user, demo_campaign):
    login(make_user("regional", region="93"))
    page = client.get(f"/campaigns/{demo_campaign.id}").get_data(as_text=True)
    assert page.count('class="tl-lane"') == 2  # national + its own
    assert "Conférence de presse — Bretagne" not in page
    assert client.get("/regions/53").status_code == 403
    assert client.get("/regions/93").status_code == 200
    assert client.get("/admin/users").status_code == 403
