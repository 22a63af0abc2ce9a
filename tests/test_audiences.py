"""Audiences for every send: multi-choice filters with readable summaries, contacts picked by name,
the recipient list (and who is left out, and why) before sending, sender identities configured once
and the only ones allowed, "Envoyer maintenant" confirmed with the count, drafts edited."""

import re

from sqlalchemy import select

from contacts import audiences
from contacts.services import erase_contact
from extensions import db
from mailings.identities import SenderIdentity
from mailings.models import Delivery, EmailTemplate, Mailing
from tests.conftest import PASSWORD, csrf_from, sign_out

BRETAGNE, PAYS_DE_LOIRE, PACA = "53", "52", "93"


def template_id() -> int:
    template = EmailTemplate(name="Communiqué", subject="Bonjour", html="<p>Bonjour {{ contact.first_name }}</p>")
    db.session.add(template)
    db.session.commit()
    return template.id


def new_mailing(client, audience: dict, **fields):
    body = {
        "name": "Lancement",
        "template_id": template_id(),
        "from_name": "ESS France",
        "from_email": "presse@example.org",
        "audience": audience,
        **fields,
    }
    return client.post("/api/v1/mailings", json=body)


def press_people(make_contact):
    """Regional dailies in Bretagne and Pays de la Loire, one in PACA, a national agency, a radio."""
    return {
        "ouest": make_contact(region=BRETAGNE, media_type="regional_daily", last_name="Ouest", beats=["emploi"]),
        "telegramme": make_contact(region=BRETAGNE, media_type="regional_daily", last_name="Télégramme"),
        "presse_ocean": make_contact(region=PAYS_DE_LOIRE, media_type="regional_daily", last_name="Océan"),
        "provence": make_contact(region=PACA, media_type="regional_daily", last_name="Provence"),
        "radio": make_contact(region=BRETAGNE, media_type="radio", last_name="Radio"),
        "afp": make_contact(media_type="agency", last_name="Agence"),
    }


def test_a_filter_reads_as_people_say_it(app, regions):
    summary = audiences.describe_filter(
        {"media_type": "regional_daily", "region": [BRETAGNE, PAYS_DE_LOIRE], "beats": ["emploi"]}
    )
    assert summary == "Quotidien régional (PQR) · Bretagne, Pays de Loire · thème : emploi"
    assert audiences.describe_filter({"kind": ["media", "partner"], "region": "national"}) == (
        "Média, Partenaire · National"
    )
    assert audiences.describe_filter({}) == "Tous les contacts"


def test_segments_page_shows_summaries_and_contacts_filter_takes_several_regions(
    client, login, make_user, make_contact, regions
):
    people = press_people(make_contact)
    login(make_user("national"))
    listing = client.get(f"/contacts?region={BRETAGNE}&region={PAYS_DE_LOIRE}&media_type=regional_daily").text
    assert "3 contacts" in listing and "Quotidien régional (PQR) · Bretagne, Pays de Loire" in listing
    assert people["provence"].email not in listing and people["ouest"].email in listing
    saved = client.post(
        f"/contacts/segments?region={BRETAGNE}&region={PAYS_DE_LOIRE}&media_type=regional_daily",
        data={"csrf_token": csrf_from(listing), "name": "PQR de l'Ouest"},
    )
    assert saved.status_code == 302
    segment = db.session.scalars(select(audiences.Segment)).one()
    assert segment.filter == {"region": [BRETAGNE, PAYS_DE_LOIRE], "media_type": "regional_daily"}
    page = client.get("/contacts/lists").text
    assert re.search(
        r"PQR de l&#39;Ouest</td>\s*<td><small[^>]*>Quotidien régional \(PQR\) · Bretagne, Pays de Loire", page
    )
    assert "region =" not in page


def test_recipients_before_sending_say_who_is_left_out_and_why(app, api, make_user, make_contact, demo_campaign):
    people = press_people(make_contact)
    people["telegramme"].opted_out = True
    people["radio"].bounced = True
    db.session.commit()
    lead = api(make_user("national"))
    lonely = make_contact(region=BRETAGNE, last_name="Effacé")
    made = new_mailing(
        lead,
        {
            "filter": {"media_type": ["regional_daily", "radio"], "region": [BRETAGNE, PAYS_DE_LOIRE]},
            "contact_ids": [people["afp"].id, lonely.id],
            "exclude_contact_ids": [people["presse_ocean"].id],
        },
    )
    assert made.status_code == 201, made.json
    assert made.json["audience"]["filter"] == {
        "media_type": ["regional_daily", "radio"],
        "region": [BRETAGNE, PAYS_DE_LOIRE],
    }
    assert made.json["audience_summary"].startswith("Quotidien régional (PQR), Radio · Bretagne, Pays de Loire")
    erase_contact(None, db.session.get(type(lonely), lonely.id))
    db.session.commit()

    found = lead.get(f"/api/v1/mailings/{made.json['id']}/recipients").json
    why = {row["contact_id"]: row["excluded_because"] for row in found["items"]}
    assert why == {
        people["ouest"].id: None,
        people["afp"].id: None,
        people["telegramme"].id: "opted_out",
        people["radio"].id: "bounced",
        people["presse_ocean"].id: "pressure",
        lonely.id: "erased",
    }
    assert found["receiving"] == 2 and found["total"] == 6
    assert found["excluded"] == {
        "other_region": 0,
        "erased": 1,
        "opted_out": 1,
        "bounced": 1,
        "stopped_stream": 0,
        "pressure": 1,
        "no_address": 0,
    }
    assert [r["excluded_because"] for r in found["items"][:2]] == [None, None]  # who receives it first
    erased = next(r for r in found["items"] if r["excluded_because"] == "erased")
    assert erased["email"] is None
    left_out = lead.get(f"/api/v1/mailings/{made.json['id']}/recipients?excluded=true&per_page=2&page=2").json
    assert left_out["total"] == 4 and len(left_out["items"]) == 2 and left_out["page"] == 2
    assert lead.get(f"/api/v1/mailings/{made.json['id']}/recipients?per_page=0").status_code == 422
    spec = lead.get("/api/v1/openapi.json").json
    assert "/api/v1/mailings/{mailing_id}/recipients" in spec["paths"]


def test_a_regional_mailing_leaves_other_regions_out_without_showing_them(
    app, api, make_user, make_contact, demo_campaign
):
    people = press_people(make_contact)
    lead = api(make_user("national"))
    everyone = lead.post("/api/v1/lists", json={"name": "Toute la PQR"}).json
    lead.post(f"/api/v1/lists/{everyone['id']}/members", json={"contact_ids": [p.id for p in people.values()]})
    bretagne = api(make_user("regional", region=BRETAGNE))
    made = new_mailing(bretagne, {"list_ids": everyone["id"], "filter": {"region": BRETAGNE}})  # scalars still work
    assert made.status_code == 201, made.json
    assert made.json["audience"]["list_ids"] == [everyone["id"]]
    found = bretagne.get(f"/api/v1/mailings/{made.json['id']}/recipients?per_page=50").json
    receiving = {r["contact_id"] for r in found["items"] if r["excluded_because"] is None}
    assert receiving == {people[k].id for k in ("ouest", "telegramme", "radio", "afp")}
    others = [r for r in found["items"] if r["excluded_because"] == "other_region"]
    assert len(others) == 2 and all(r["email"] is None and r["name"] == "" for r in others)
    assert people["provence"].email not in str(found)
    refused = new_mailing(bretagne, {"filter": {"region": [BRETAGNE, PACA]}})
    assert refused.status_code == 422 and "audience.filter" in refused.json["error"]["fields"]
    bad = new_mailing(lead, {"filter": {"region": ["99"]}})
    assert bad.status_code == 422 and "audience.filter" in bad.json["error"]["fields"]


def test_contacts_are_picked_by_name_within_reach(client, login, make_user, make_contact, demo_campaign):
    ouest = make_contact(region=BRETAGNE, first_name="Yann", last_name="Le Bihan", outlet="Ouest-France")
    make_contact(region=PACA, first_name="Yannick", last_name="Marcel")
    login(make_user("regional", region=BRETAGNE))
    found = client.get("/mailings/contacts.json?q=yann").json["items"]
    assert [c["id"] for c in found] == [ouest.id]
    assert found[0]["label"] == f"Yann Le Bihan — {ouest.email} (Ouest-France)"
    assert client.get("/mailings/contacts.json?q=y").json["items"] == []

    page = client.get("/mailings").text  # without JavaScript: "Chercher" shows the matches to tick
    assert "numéros" not in page and 'id="contact-search"' in page
    searched = client.post(
        "/mailings", data={"csrf_token": csrf_from(page), "contact_search": "bihan", "search_contacts": "1"}
    ).text
    assert f'name="contact_ids" value="{ouest.id}"' in searched
    assert db.session.scalar(select(Mailing.id)) is None


def test_the_mailing_form_creates_an_audience_from_ticks_and_names(
    client, login, make_user, make_contact, demo_campaign
):
    people = press_people(make_contact)
    template = template_id()
    login(make_user("national"))
    page = client.get("/mailings").text
    made = client.post(
        "/mailings",
        data={
            "csrf_token": csrf_from(page),
            "name": "PQR de l'Ouest",
            "template_id": str(template),
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "f_media_type": "regional_daily",
            "f_region": [BRETAGNE, PAYS_DE_LOIRE],
            "contact_ids": str(people["afp"].id),
            "milestone_id": "0",
        },
    )
    assert made.status_code == 302, made.text
    mailing = db.session.scalars(select(Mailing)).one()
    assert mailing.audience["filter"] == {"media_type": "regional_daily", "region": [BRETAGNE, PAYS_DE_LOIRE]}
    assert mailing.audience["contact_ids"] == [people["afp"].id]
    shown = client.get(made.location).text
    assert "Quotidien régional (PQR) · Bretagne, Pays de Loire + 1 contact choisi" in shown
    assert "4 destinataires" in shown
    for who in ("ouest", "telegramme", "presse_ocean", "afp"):
        assert people[who].email in shown
    assert people["provence"].email not in shown


def test_sender_identities_are_offered_and_the_only_ones_allowed(
    client, login, make_user, make_contact, demo_campaign, api
):
    national = make_user("national")
    login(national)
    page = client.get("/mailings/senders").text
    refused = client.post(
        "/mailings/senders",
        data={"csrf_token": csrf_from(page), "region": "", "from_name": "Banque", "from_email": "ceo@bank.example"},
    )
    assert 'id="from_email-error"' in refused.text and db.session.scalar(select(SenderIdentity.id)) is None
    for region, name, email in (
        ("", "ESS France", "presse@example.org"),
        (BRETAGNE, "CRES Bretagne", "bzh@example.org"),
    ):
        added = client.post(
            "/mailings/senders",
            data={"csrf_token": csrf_from(page), "region": region, "from_name": name, "from_email": email},
        )
        assert added.status_code == 302
    listing = client.get("/mailings/senders").text
    assert "CRES Bretagne &lt;bzh@example.org&gt;" in listing and "ESS France &lt;presse@example.org&gt;" in listing

    form = client.get("/mailings").text
    offered = re.search(r'<select id="sender_id" name="sender_id">(.*?)</select>', form, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", offered) == ["ESS France &lt;presse@example.org&gt;"]
    assert 'id="from_email"' not in form  # nothing to retype

    bretagne = make_user("regional", region=BRETAGNE)
    sign_out(client)
    login(bretagne)
    form = client.get("/mailings").text
    offered = re.search(r'<select id="sender_id" name="sender_id">(.*?)</select>', form, re.S).group(1)
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", offered)
    assert [label for _, label in options] == [
        "CRES Bretagne &lt;bzh@example.org&gt;",
        "ESS France &lt;presse@example.org&gt;",
    ]
    assert "selected" in options[0][0]  # prefilled with the region's own identity

    contact = make_contact(region=BRETAGNE)
    allowed_by_config_only = new_mailing(api(bretagne), {"contact_ids": [contact.id]}, from_email="autre@example.org")
    assert allowed_by_config_only.status_code == 422
    assert list(allowed_by_config_only.json["error"]["fields"]) == ["from_email"]
    assert new_mailing(api(bretagne), {"contact_ids": [contact.id]}, from_email="bzh@example.org").status_code == 201
    paca = api(make_user("regional", region=PACA))
    assert new_mailing(paca, {}, from_email="bzh@example.org").json["error"]["fields"].keys() >= {"from_email"}


def test_send_now_asks_first_with_the_count(client, login, make_user, make_contact, demo_campaign, api):
    people = press_people(make_contact)
    lead = make_user("national")
    made = new_mailing(api(lead), {"filter": {"media_type": "regional_daily"}}).json
    login(lead)
    page = client.get(f"/mailings/{made['id']}").text
    assert f'href="/mailings/{made["id"]}/send-now"' in page
    assert f'action="/mailings/{made["id"]}/send_now"' not in page  # no button that sends at once
    confirm = client.get(f"/mailings/{made['id']}/send-now").text
    assert "partira tout de suite à 4 destinataires" in confirm
    assert "Confirmer l'envoi à 4 destinataires" in confirm
    assert db.session.get(Mailing, made["id"]).status == "draft"
    sent = client.post(f"/mailings/{made['id']}/send_now", data={"csrf_token": csrf_from(confirm)})
    assert sent.status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailing, made["id"]).status == "sending"
    assert people["provence"].id in {d.contact_id for d in db.session.scalars(select(Delivery))}


def test_a_draft_is_edited_and_a_scheduled_one_is_not(client, login, make_user, make_contact, demo_campaign, api):
    people = press_people(make_contact)
    lead = make_user("national")
    made = new_mailing(api(lead), {"contact_ids": [people["afp"].id]}).json
    login(lead)
    form = client.get(f"/mailings/{made['id']}/edit").text
    assert 'value="Lancement"' in form and f'name="contact_ids" value="{people["afp"].id}" checked' in form
    saved = client.post(
        f"/mailings/{made['id']}/edit",
        data={
            "csrf_token": csrf_from(form),
            "name": "Lancement (corrigé)",
            "template_id": str(made["template_id"]),
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "f_region": BRETAGNE,
            "f_media_type": "regional_daily",
            "milestone_id": "0",
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    mailing = db.session.get(Mailing, made["id"])
    assert mailing.name == "Lancement (corrigé)" and mailing.audience["contact_ids"] == []
    assert mailing.audience["filter"] == {"region": BRETAGNE, "media_type": "regional_daily"}
    bad = client.post(
        f"/mailings/{made['id']}/edit",
        data={"csrf_token": csrf_from(form), "name": "", "template_id": str(made["template_id"]), "milestone_id": "0"},
    )
    assert bad.status_code == 200 and 'id="name-error"' in bad.text
    db.session.expire_all()
    assert db.session.get(Mailing, made["id"]).name == "Lancement (corrigé)"

    viewer = make_user("viewer")
    other = app_client(client)
    login_as(other, viewer)
    assert other.get(f"/mailings/{made['id']}/edit").status_code == 403
    assert 'id="edit-mailing"' in client.get(f"/mailings/{made['id']}").text
    assert 'id="edit-mailing"' not in other.get(f"/mailings/{made['id']}").text

    api(lead).post(f"/api/v1/mailings/{made['id']}/schedule", json={"send_at": "2030-01-07T10:00:00"})
    refused = client.get(f"/mailings/{made['id']}/edit", follow_redirects=True).text
    assert "ne se modifie plus" in refused


def app_client(client):
    return client.application.test_client()


def login_as(client, user):
    page = client.get("/login").text
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page)})


def test_a_sent_back_regional_mailing_is_edited_by_its_region(
    client, login, make_user, make_contact, demo_campaign, api
):
    contact = make_contact(region=BRETAGNE)
    bretagne = make_user("regional", region=BRETAGNE)
    made = new_mailing(api(bretagne), {"contact_ids": [contact.id]}).json
    api(bretagne).post(f"/api/v1/mailings/{made['id']}/submit")
    login(bretagne)
    assert "ne se modifie plus" in client.get(f"/mailings/{made['id']}/edit", follow_redirects=True).text
    sent_back = api(make_user("national")).post(f"/api/v1/mailings/{made['id']}/reject", json={"comment": "Le lieu ?"})
    assert sent_back.status_code == 200, sent_back.json  # sending back says why
    form = client.get(f"/mailings/{made['id']}/edit")
    assert form.status_code == 200 and 'value="Lancement"' in form.text


def test_the_weekly_limit_shows_as_contact_pressure_before_sending(
    app, api, make_user, make_contact, make_mailing, demo_campaign
):
    from datetime import timedelta

    from dbtypes import utcnow
    from mailings import services
    from press import pressure

    user = make_user("national")
    busy = make_contact(email="busy@example.org", region="93")
    calm = make_contact(email="calm@example.org", region="93")
    pressure.save_settings(user, demo_campaign, 3, 1)
    first = make_mailing([busy], name="Premier", user=user)
    services.transition(user, first, "send_now", now=utcnow() - timedelta(days=2))
    db.session.execute(
        Delivery.__table__.update().where(Delivery.mailing_id == first.id).values(status="sent", sent_at=utcnow())
    )
    second = make_mailing([busy, calm], name="Second", user=user)
    db.session.commit()
    found = api(user).get(f"/api/v1/mailings/{second.id}/recipients").json
    assert {r["email"]: r["excluded_because"] for r in found["items"]} == {
        "calm@example.org": None,
        "busy@example.org": "pressure",
    }
    services.transition(user, second, "send_now")  # what the list said is what happens
    db.session.commit()
    skipped = db.session.scalars(
        select(Delivery.email).where(Delivery.mailing_id == second.id, Delivery.status == "skipped")
    )
    assert list(skipped) == ["busy@example.org"]


def test_filters_take_one_value_or_several_in_the_api(app, api, make_user, make_contact, regions):
    people = press_people(make_contact)
    lead = api(make_user("national"))
    found = lead.get(f"/api/v1/contacts?region={BRETAGNE}&region={PAYS_DE_LOIRE}&media_type=regional_daily").json
    assert {c["email"] for c in found["items"]} == {people[k].email for k in ("ouest", "telegramme", "presse_ocean")}
    one = lead.get(f"/api/v1/contacts?region={PACA}").json
    assert [c["email"] for c in one["items"]] == [people["provence"].email]
    assert lead.get("/api/v1/contacts?media_type=fanzine").status_code == 422
    segment = lead.post(
        "/api/v1/segments", json={"name": "Emploi", "filter": {"beats": "emploi", "region": [BRETAGNE]}}
    )
    assert segment.status_code == 201 and segment.json["size"] == 1
    assert segment.json["filter"] == {"beats": ["emploi"], "region": BRETAGNE}
    bad = lead.post("/api/v1/segments", json={"name": "X", "filter": {"beats": [1, 2]}})
    assert bad.status_code == 422 and "filter" in bad.json["error"]["fields"]


def test_a_release_mailing_gets_its_audience_through_the_api(app, api, make_user, make_contact, demo_campaign):
    from tests.test_embargo import release

    people = press_people(make_contact)
    lead = make_user("national")
    item = release(lead, demo_campaign)
    client = api(lead)
    audience = {"filter": {"media_type": "regional_daily", "region": [BRETAGNE, PAYS_DE_LOIRE]}}
    body = {"from_name": "ESS France", "from_email": "presse@example.org", "audience": audience}
    made = client.post(f"/api/v1/press-releases/{item.id}/mailing", json=body)
    assert made.status_code == 201, made.json
    assert made.json["status"] == "draft" and made.json["audience_size"] == 3
    again = client.post(
        f"/api/v1/press-releases/{item.id}/mailing", json=body | {"audience": {"contact_ids": people["afp"].id}}
    )
    assert again.json["id"] == made.json["id"] and again.json["audience"]["contact_ids"] == [people["afp"].id]
    found = client.get(f"/api/v1/mailings/{made.json['id']}/recipients").json
    assert [r["email"] for r in found["items"]] == [people["afp"].email]
    refused = client.post(f"/api/v1/press-releases/{item.id}/mailing", json=body | {"from_email": "x@bank.example"})
    assert refused.status_code == 422 and "from_email" in refused.json["error"]["fields"]


def test_a_region_reading_a_national_mailing_sees_no_other_region_s_people(
    client, login, make_user, make_contact, demo_campaign, api
):
    people = press_people(make_contact)
    made = new_mailing(api(make_user("national")), {"filter": {"media_type": "regional_daily"}}).json
    login(make_user("regional", region=BRETAGNE))
    page = client.get(f"/mailings/{made['id']}").text
    assert people["ouest"].email in page and people["telegramme"].email in page
    assert people["provence"].email not in page and people["presse_ocean"].email not in page
    assert len(re.findall(r"un contact d(?:'|&#39;)une autre région", page)) == 2
    assert "4 destinataires" in page


def test_a_region_configures_only_its_own_identities(client, login, make_user, regions):
    login(make_user("regional", region=BRETAGNE))
    page = client.get("/mailings/senders").text
    offered = re.search(r'<select id="region" name="region">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", offered) == ["Bretagne"]
    elsewhere = client.post(
        "/mailings/senders",
        data={
            "csrf_token": csrf_from(page),
            "region": PACA,
            "from_name": "CRESS PACA",
            "from_email": "paca@example.org",
        },
    )
    assert elsewhere.status_code == 200 and 'id="region-error"' in elsewhere.text
    national = client.post(
        "/mailings/senders",
        data={"csrf_token": csrf_from(page), "region": "", "from_name": "ESS France", "from_email": "n@example.org"},
    )
    assert national.status_code == 200 and db.session.scalar(select(SenderIdentity.id)) is None
    added = client.post(
        "/mailings/senders",
        data={
            "csrf_token": csrf_from(page),
            "region": BRETAGNE,
            "from_name": "CRES Bretagne",
            "from_email": "b@example.org",
        },
    )
    assert added.status_code == 302
    identity = db.session.scalars(select(SenderIdentity)).one()
    assert identity.region_id == regions[BRETAGNE].id and identity.name == "CRES Bretagne"
    twice = client.post(
        "/mailings/senders",
        data={"csrf_token": csrf_from(page), "region": BRETAGNE, "from_name": "Encore", "from_email": "b@example.org"},
    )
    assert "cette identité existe déjà" in twice.text
    removed = client.post(f"/mailings/senders/{identity.id}/delete", data={"csrf_token": csrf_from(page)})
    assert removed.status_code == 302 and db.session.scalar(select(SenderIdentity.id)) is None


def test_without_identities_the_sender_is_not_retyped(client, login, make_user, make_contact, demo_campaign, api):
    login(make_user("national"))
    form = client.get("/mailings").text
    assert re.search(r'<input id="from_email"[^>]*value="relais@example.org"', form)
    new_mailing(api(make_user("national")), {}, from_name="ESS France", from_email="presse@example.org")
    form = client.get("/mailings").text
    assert re.search(r'<input id="from_name"[^>]*value="ESS France"', form)
    assert re.search(r'<input id="from_email"[^>]*value="presse@example.org"', form)


def test_a_walk_in_without_an_address_is_left_out_as_such(app, api, make_user, make_contact, demo_campaign):
    walk_in = make_contact(email="sur-place-0a1b2c@sans-adresse.example", last_name="Venu")
    journalist = make_contact(last_name="Invitée")
    lead = api(make_user("national"))
    made = new_mailing(lead, {"contact_ids": [walk_in.id, journalist.id]}).json
    found = lead.get(f"/api/v1/mailings/{made['id']}/recipients").json
    assert {r["contact_id"]: r["excluded_because"] for r in found["items"]} == {
        journalist.id: None,
        walk_in.id: "no_address",
    }
    assert found["receiving"] == 1 and found["excluded"]["no_address"] == 1
