"""Mailing audiences by city: "the journalists of Montpellier", case and accents aside, in the form,
the API, segments, the recipient list and the deliveries frozen; a region reaches only its own."""

from sqlalchemy import select

from contacts import audiences
from extensions import db
from mailings.models import Delivery, Mailing
from tests.conftest import csrf_from
from tests.test_audiences import new_mailing, template_id

LANGUEDOC, MIDI_PYRENEES = "91", "73"


def herault_press(make_contact):
    """Journalists of Montpellier (the city written two ways) and Sète, of Nîmes, and one of another
    region's daily who lives in Montpellier."""
    return {
        "midi_libre": make_contact(region=LANGUEDOC, last_name="Fabre", city="Montpellier"),
        "afp": make_contact(last_name="Vidal", city="MONTPELLIER"),
        "sete": make_contact(region=LANGUEDOC, last_name="Roux", city="Sète"),
        "nimes": make_contact(region=LANGUEDOC, last_name="Bonnet", city="Nîmes"),
        "depeche": make_contact(region=MIDI_PYRENEES, last_name="Castan", city="Montpellier"),
    }


def test_a_city_filter_reads_in_french(app, regions):
    assert audiences.describe_filter({"city": ["Montpellier", "Sète"]}) == "à Montpellier, Sète"
    summary = audiences.describe_filter({"media_type": "regional_daily", "region": LANGUEDOC, "city": "Montpellier"})
    assert summary == "Quotidien régional (PQR) · Languedoc Roussillon · à Montpellier"
    assert audiences.describe_filter({"city": ["Le Havre", "Rouen"]}) == "au Havre, Rouen"
    assert audiences.describe_filter({"city": "Les Sables-d'Olonne"}) == "aux Sables-d'Olonne"
    assert audiences.describe_filter({"city": "La Rochelle"}) == "à La Rochelle"


def test_a_mailing_to_two_cities_reaches_exactly_their_journalists(
    client, login, make_user, make_contact, demo_campaign, api
):
    people = herault_press(make_contact)
    template = template_id()
    lead = make_user("national")
    login(lead)
    page = client.get("/mailings").text
    assert 'name="f_city"' in page
    made = client.post(
        "/mailings",
        data={
            "csrf_token": csrf_from(page),
            "name": "Presse de l'Hérault",
            "template_id": str(template),
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "f_city": "montpéllier,  SÈTE",
            "milestone_id": "0",
        },
    )
    assert made.status_code == 302, made.text
    mailing = db.session.scalars(select(Mailing)).one()
    assert mailing.audience["filter"] == {"city": ["Montpellier", "Sète"]}
    shown = client.get(made.location).text
    assert "à Montpellier, Sète" in shown and "4 destinataires" in shown
    wanted = {people[k].id for k in ("midi_libre", "afp", "sete", "depeche")}
    found = api(lead).get(f"/api/v1/mailings/{mailing.id}/recipients").json
    assert found["receiving"] == 4 and {r["contact_id"] for r in found["items"]} == wanted
    assert people["nimes"].email not in shown
    form = client.get(f"/mailings/{mailing.id}/edit").text
    assert 'name="f_city" id="f_city" value="Montpellier, Sète"' in form

    confirm = client.get(f"/mailings/{mailing.id}/send-now").text
    assert "Confirmer l'envoi à 4 destinataires" in confirm
    client.post(f"/mailings/{mailing.id}/send_now", data={"csrf_token": csrf_from(confirm)})
    frozen = db.session.scalars(select(Delivery.contact_id).where(Delivery.mailing_id == mailing.id))
    assert set(frozen) == wanted


def test_a_region_s_city_mailing_reaches_only_its_region(app, api, make_user, make_contact, demo_campaign):
    from dbtypes import utcnow
    from mailings.engine.deliveries import freeze_audience

    people = herault_press(make_contact)
    languedoc = api(make_user("regional", region=LANGUEDOC))
    made = new_mailing(languedoc, {"filter": {"city": ["montpellier"]}})
    assert made.status_code == 201, made.json
    assert made.json["audience_summary"] == "à Montpellier"
    found = languedoc.get(f"/api/v1/mailings/{made.json['id']}/recipients").json
    receiving = {r["contact_id"] for r in found["items"] if r["excluded_because"] is None}
    assert receiving == {people["midi_libre"].id, people["afp"].id} and found["receiving"] == 2
    assert found["excluded"]["other_region"] == 1 and people["depeche"].email not in str(found)
    mailing = db.session.get(Mailing, made.json["id"])
    freeze_audience(mailing, utcnow())
    db.session.commit()
    frozen = db.session.scalars(select(Delivery.contact_id).where(Delivery.mailing_id == mailing.id))
    assert set(frozen) == receiving


def test_segments_and_mailings_take_cities_through_the_api(app, api, make_user, make_contact, demo_campaign):
    people = herault_press(make_contact)
    lead = api(make_user("national"))
    segment = lead.post("/api/v1/segments", json={"name": "Sète et Nîmes", "filter": {"city": "sete, NIMES"}})
    assert segment.status_code == 201, segment.json
    assert segment.json["filter"] == {"city": ["Sète", "Nîmes"]} and segment.json["size"] == 2
    made = new_mailing(lead, {"segment_ids": [segment.json["id"]]})
    found = lead.get(f"/api/v1/mailings/{made.json['id']}/recipients").json
    assert {r["contact_id"] for r in found["items"]} == {people["sete"].id, people["nimes"].id}
    for bad in ({"city": [1, 2]}, {"city": "x" * 101}):
        refused = lead.post("/api/v1/segments", json={"name": "X", "filter": bad})
        assert refused.status_code == 422 and "filter" in refused.json["error"]["fields"], refused.json
        refused = new_mailing(lead, {"filter": bad})
        assert refused.status_code == 422 and "audience.filter" in refused.json["error"]["fields"], refused.json
    assert "city" in lead.get("/api/v1/openapi.json").json["components"]["schemas"]["SegmentFilter"]["properties"]


def test_the_command_line_export_filters_by_city_beat_and_media_type(app, runner, make_contact):
    make_contact(email="rennes@example.org", region="53", city="Rennes", media_type="regional_daily")
    make_contact(email="brest@example.org", region="53", city="BREST", media_type="radio")
    make_contact(email="vannes@example.org", region="53", city="Vannes", media_type="regional_daily")
    by_city = runner.invoke(args=["contacts", "export", "--city", "rennes, Brèst"])
    assert by_city.exit_code == 0, by_city.output
    assert "rennes@example.org" in by_city.output and "brest@example.org" in by_city.output
    assert "vannes@example.org" not in by_city.output
    by_type = runner.invoke(
        args=["contacts", "export", "--media-type", "regional_daily", "--city", "Rennes", "--city", "Vannes"]
    )
    assert by_type.exit_code == 0, by_type.output
    assert "rennes@example.org" in by_type.output and "vannes@example.org" in by_type.output
    assert "brest@example.org" not in by_type.output
    wrong = runner.invoke(args=["contacts", "export", "--media-type", "blogue"])
    assert wrong.exit_code != 0 and "--media-type" in wrong.output


def test_a_town_is_found_with_or_without_its_hyphens_and_apostrophes(app, api, make_user, make_contact):
    make_contact(email="aix@example.org", region="93", city="Aix-en-Provence")
    make_contact(email="isle@example.org", region="93", city="L'Isle-sur-la-Sorgue")
    make_contact(email="marseille@example.org", region="93", city="Marseille")
    lead = api(make_user("national"))
    for typed, wanted in (
        ("aix en provence", {"aix@example.org"}),
        ("AIX-EN-PROVENCE", {"aix@example.org"}),
        ("l isle sur la sorgue, Aix en Provence", {"aix@example.org", "isle@example.org"}),
        ("l’Isle-sur-la-Sorgue", {"isle@example.org"}),
        ("Aix", set()),  # a town is its whole name, not a part of it
    ):
        found = lead.get("/api/v1/contacts", query_string={"city": typed}).get_json()["items"]
        assert {c["email"] for c in found} == wanted, typed
