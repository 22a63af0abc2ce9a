"""Press coverage: clippings recorded per region, scoped, and counted on the dashboard."""

from sqlalchemy import select

from campaign.federation_models import PressClipping
from extensions import db
from tests.conftest import csrf_from

CLIPPING = {
    "outlet": "La Provence",
    "media_type": "regional_daily",
    "title": "Un mois pour l'économie solidaire",
    "published_on": "2008-09-12",
    "url": "https://www.example.org/la-provence/mois-ess",
    "region": "93",
    "milestone_id": "0",
    "reach": "140000",
    "notes": "",
}


def test_record_a_clipping_and_see_it(app, client, demo_campaign, make_user, login):
    login(make_user("regional", region="93"))
    page = client.get("/coverage/new")
    response = client.post("/coverage/new", data={**CLIPPING, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    clipping = db.session.scalar(select(PressClipping))
    assert clipping.region.code == "93" and clipping.reach == 140000 and str(clipping.published_on) == "2008-09-12"
    listing = client.get("/coverage?region=93").get_data(as_text=True)
    assert "La Provence" in listing and "140 000" in listing
    dashboard = client.get("/").get_data(as_text=True)
    assert "Retombées" in dashboard and "140 000" in dashboard


def test_bad_input_names_the_field(app, client, demo_campaign, make_user, login):
    login(make_user("national"))
    token = csrf_from(client.get("/coverage/new").get_data(as_text=True))
    response = client.post("/coverage/new", data={**CLIPPING, "reach": "-5", "url": "pas une url", "csrf_token": token})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="reach-error"' in text and 'id="url-error"' in text
    assert db.session.scalar(select(PressClipping.id)) is None


def test_clippings_are_scoped_to_the_region(app, client, demo_campaign, make_user, login, regions):
    db.session.add(
        PressClipping(
            campaign_id=demo_campaign.id,
            region_id=regions["91"].id,
            outlet="Midi Libre",
            title="L'ESS au Corum",
            published_on=demo_campaign.ends_on,
        )
    )
    db.session.commit()
    clipping = db.session.scalar(select(PressClipping))
    login(make_user("regional", region="93"))
    assert "Midi Libre" not in client.get("/coverage").get_data(as_text=True)
    assert client.get("/coverage?region=91").status_code == 403
    assert client.get(f"/coverage/{clipping.id}/edit").status_code == 403
    token = csrf_from(client.get("/coverage/new").get_data(as_text=True))
    refused = client.post("/coverage/new", data={**CLIPPING, "region": "91", "csrf_token": token})
    assert refused.status_code == 200 and 'id="region-error"' in refused.get_data(as_text=True)
