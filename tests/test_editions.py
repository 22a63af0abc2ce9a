"""Editions: a new edition made from 2008 (API, page, command line), the chooser each person keeps,
the public archive of earlier editions, and the regions' boundaries in either edition."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from accounts.models import AuditEntry, User
from campaign.federation_models import EventVocabulary, PressClipping
from campaign.models import Campaign, Event, Milestone
from contacts.models import Contact
from dbtypes import utcnow
from extensions import db
from mailings.models import Delivery, EmailTemplate, Mailing
from press.models import PressRelease, PressSettings, Rsvp
from tests.conftest import csrf_from, sign_out

PARIS = ZoneInfo("Europe/Paris")


def local(value: datetime) -> datetime:
    return value.astimezone(PARIS)


def count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def one(campaign: Campaign, kind: str, region_id=None) -> Milestone:
    return db.session.scalars(
        select(Milestone)
        .where(Milestone.campaign_id == campaign.id, Milestone.kind == kind)
        .where(Milestone.region_id.is_(None) if region_id is None else Milestone.region_id == region_id)
        .order_by(Milestone.starts_at)
    ).first()


@pytest.fixture
def history(demo_campaign, make_contact, make_user, regions):
    """What 2008 lived through: a template of its own, a sent mailing, answers, coverage, events, a release."""
    campaign = demo_campaign
    journalist = make_contact(region="11")
    conference = one(campaign, "national_press_conference")
    template = EmailTemplate(
        campaign_id=campaign.id, name="Invitation 2008", subject="Invitation", html="<p>Bonjour</p>"
    )
    db.session.add(template)
    db.session.flush()
    mailing = Mailing(
        campaign_id=campaign.id,
        template_id=template.id,
        name="Invitations",
        from_name="CNCRES",
        from_email="presse@example.org",
        status="sent",
    )
    db.session.add(mailing)
    db.session.flush()
    db.session.add_all(
        [
            Delivery(mailing_id=mailing.id, contact_id=journalist.id, email=journalist.email, status="sent"),
            Rsvp(milestone_id=conference.id, contact_id=journalist.id, answer="yes", answered_at=utcnow()),
            PressClipping(
                campaign_id=campaign.id, outlet="Ouest-France", title="Le Mois de l'ESS", published_on=date(2008, 11, 3)
            ),
            Event(
                campaign_id=campaign.id,
                region_id=regions["11"].id,
                title="Forum de l'ESS à Paris",
                starts_at=datetime(2008, 11, 12, 9, tzinfo=ZoneInfo("UTC")),
                status="approved",
            ),
            PressRelease(
                campaign_id=campaign.id, title="Le Mois de l'ESS 2008 est lancé", lead="Lancement", ready=True
            ),
            PressSettings(campaign_id=campaign.id, pressure_days=5, weekly_limit=2),
            EventVocabulary(campaign_id=campaign.id, kind="theme", label="Emploi"),
        ]
    )
    db.session.commit()
    return campaign


def test_a_2027_edition_from_2008_through_the_api(app, api, make_user, history):
    national = make_user("national")
    before = {model: count(model) for model in (Contact, Delivery, Rsvp, PressClipping, Event, Mailing, PressRelease)}
    answer = api(national).post(
        f"/api/v1/campaigns/{history.id}/new-edition",
        json={"name": "Mois de l'ESS 2027", "event_month_start": "2027-11-01"},
    )
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["name"] == "Mois de l'ESS 2027" and body["ends_on"] == "2027-11-30"
    assert body["copied"]["milestones"] == count(Milestone, campaign_id=history.id)
    assert body["copied"]["templates"] == 1 and body["copied"]["press_settings"] == 1
    new = db.session.get(Campaign, body["id"])

    # the playbook's rules: a Tuesday conference stays a Tuesday, about as long before the month
    old_conf, new_conf = one(history, "national_press_conference"), one(new, "national_press_conference")
    assert local(old_conf.starts_at).weekday() == local(new_conf.starts_at).weekday() == 1
    assert local(new_conf.starts_at).hour == 10 and local(new_conf.starts_at).date() == date(2027, 9, 7)
    before_month = (date(2008, 11, 1) - local(old_conf.starts_at).date()).days
    assert abs((date(2027, 11, 1) - local(new_conf.starts_at).date()).days - before_month) <= 3
    launch = one(new, "internal_launch")
    assert local(launch.starts_at).weekday() == local(one(history, "internal_launch").starts_at).weekday() == 3
    month = one(new, "event_period")
    assert local(month.starts_at).date() == date(2027, 11, 1) and local(month.ends_at).date() == date(2027, 11, 30)
    # the regional conferences stay in the national press week, and dependencies point into 2027
    week = new_conf.starts_at.date() - timedelta(days=local(new_conf.starts_at).weekday())
    regional = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == new.id, Milestone.kind == "regional_press_conference")
    ).all()
    assert regional and all(
        week <= local(m.starts_at).date() <= week + timedelta(days=6) for m in regional if m.region.code != "91"
    )
    assert all(d.campaign_id == new.id for m in new.milestones for d in m.depends_on)
    assert {m.status for m in new.milestones} == {"planned"}

    # carried over: templates and settings, tied to 2027; shared: contacts; left behind: the rest
    template = db.session.scalar(select(EmailTemplate).where(EmailTemplate.campaign_id == new.id))
    assert template.name == "Invitation 2008" and template.html == "<p>Bonjour</p>"
    assert db.session.get(PressSettings, new.id).weekly_limit == 2
    assert count(EventVocabulary, campaign_id=new.id) == count(EventVocabulary, campaign_id=history.id)
    for model, n in before.items():
        assert count(model) == n, model.__name__
    assert count(Mailing, campaign_id=new.id) == count(Event, campaign_id=new.id) == 0
    new_ids = [m.id for m in new.milestones]
    assert db.session.scalar(select(func.count()).select_from(Rsvp).where(Rsvp.milestone_id.in_(new_ids))) == 0
    assert count(PressClipping, campaign_id=new.id) == count(PressRelease, campaign_id=new.id) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "new_edition"))
    assert entry.entity_id == str(new.id) and entry.user_id == national.id and entry.changes["from"] == history.id
    # 2008 is untouched
    assert local(one(history, "national_press_conference").starts_at).year == 2008
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "post" in spec["paths"]["/api/v1/campaigns/{campaign_id}/new-edition"]
    assert "put" in spec["paths"]["/api/v1/me/campaign"]


def test_a_region_no_longer_active_gets_nothing_in_the_new_edition(api, make_user, regions, demo_campaign):
    regions["91"].active = False  # merged into Occitanie since
    db.session.commit()
    new = make_edition(api, make_user("national"), demo_campaign, "Mois de l'ESS 2027", date(2027, 11, 1))
    assert count(Milestone, campaign_id=new.id, region_id=regions["91"].id) == 0
    assert count(Milestone, campaign_id=new.id, region_id=regions["93"].id) == 3
    assert count(Milestone, campaign_id=demo_campaign.id, region_id=regions["91"].id) == 3  # 2008 keeps its history


def test_the_assembly_date_moves_the_launch_and_the_partners_deadline(api, make_user, demo_campaign):
    answer = api(make_user("admin")).post(
        f"/api/v1/campaigns/{demo_campaign.id}/copy",
        json={"name": "Mois de l'ESS 2027", "event_month_start": "2027-11-01", "ag_date": "2027-06-24"},
    )
    assert answer.status_code == 201, answer.json
    new = db.session.get(Campaign, answer.json["id"])
    assert local(one(new, "internal_launch").starts_at).date() == date(2027, 6, 24)
    assert local(one(new, "partner_deadline").starts_at).date() == date(2027, 5, 31)  # end of the month before
    assert local(one(new, "network_relay").starts_at).date() == date(2027, 6, 25)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event_month_start": "2027-11-01"}, "name"),
        ({"name": "  ", "event_month_start": "2027-11-01"}, "name"),
        ({"name": "2027"}, "event_month_start"),
        ({"name": "2027", "event_month_start": "2027-11-15"}, "event_month_start"),
        ({"name": "2027", "event_month_start": "2027-11-01", "ag_date": "2027-12-01"}, "ag_date"),
        ({"name": "2027", "event_month_start": "3027-11-01"}, "event_month_start"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(api, make_user, demo_campaign, payload, field):
    campaigns = count(Campaign)
    answer = api(make_user("national")).post(f"/api/v1/campaigns/{demo_campaign.id}/new-edition", json=payload)
    assert answer.status_code in (400, 422), answer.json
    assert field in answer.json["error"]["fields"] or field in str(answer.json["error"]["fields"])
    assert count(Campaign) == campaigns


def test_only_the_national_team_makes_editions(api, client, login, make_user, demo_campaign):
    payload = {"name": "Mois de l'ESS 2027", "event_month_start": "2027-11-01"}
    for user in (make_user("regional", "11"), make_user("viewer")):
        assert api(user).post(f"/api/v1/campaigns/{demo_campaign.id}/new-edition", json=payload).status_code == 403
    assert api(make_user("national")).post("/api/v1/campaigns/999999/new-edition", json=payload).status_code == 404
    assert count(Campaign) == 1
    login(make_user("regional", "11"))
    page = client.get(f"/campaigns/{demo_campaign.id}").get_data(as_text=True)
    assert "Nouvelle édition à partir de celle-ci" not in page
    assert client.get(f"/campaigns/{demo_campaign.id}/new-edition").status_code == 403


def test_a_new_edition_from_the_campaign_page(client, login, make_user, demo_campaign):
    national = make_user("national")
    login(national)
    page = client.get(f"/campaigns/{demo_campaign.id}").get_data(as_text=True)
    assert "Nouvelle édition à partir de celle-ci" in page and 'value="2009-11-01"' in page
    token = csrf_from(page)
    url = f"/campaigns/{demo_campaign.id}/new-edition"
    refused = client.post(url, data={"csrf_token": token, "name": "2027", "event_month_start": "2027-11-15"})
    assert "le premier jour d&#39;un mois" in refused.get_data(as_text=True) and count(Campaign) == 1
    done = client.post(
        url,
        data={"csrf_token": token, "name": "Mois de l'ESS 2027", "event_month_start": "2027-11-01"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Nouvelle édition créée" in done and "Mois de l&#39;ESS 2027" in done
    new = db.session.scalar(select(Campaign).where(Campaign.name == "Mois de l'ESS 2027"))
    assert db.session.get(User, national.id).campaign_id == new.id  # its maker now works on it
    assert "Mois de l&#39;ESS 2027" in client.get("/").get_data(as_text=True)


def test_the_command_line_makes_an_edition(runner, demo_campaign):
    result = runner.invoke(
        args=["campaign", "new-edition", str(demo_campaign.id), "--name", "Mois de l'ESS 2027", "--month", "2027-11-01"]
    )
    assert result.exit_code == 0, result.output
    assert "Mois de l'ESS 2027" in result.output and "2027-11-30" in result.output
    bad = runner.invoke(args=["campaign", "new-edition", str(demo_campaign.id), "--name", "x", "--month", "2027-11-02"])
    assert bad.exit_code != 0 and "event_month_start" in bad.output
    assert count(Campaign) == 2


def make_edition(api, user, source: Campaign, name: str, month: date) -> Campaign:
    answer = api(user).post(
        f"/api/v1/campaigns/{source.id}/new-edition", json={"name": name, "event_month_start": month.isoformat()}
    )
    assert answer.status_code == 201, answer.json
    return db.session.get(Campaign, answer.json["id"])


def test_the_chooser_is_remembered_across_sign_ins(app, client, login, api, make_user, demo_campaign):
    national = make_user("national")
    future = make_edition(api, national, demo_campaign, "Mois de l'ESS 2040", date(2040, 11, 1))
    login(national)
    assert "<h1>" in client.get("/").get_data(as_text=True)
    page = client.get("/").get_data(as_text=True)
    assert f'<option selected value="{demo_campaign.id}">' in page  # the latest started: 2008
    token = csrf_from(client.get("/contacts").get_data(as_text=True))
    client.post(
        "/campaigns/choose",
        data={"switch-csrf_token": token, "switch-campaign_id": str(future.id), "switch-next": "/events"},
    )
    sign_out(client)
    login(national)
    page = client.get("/").get_data(as_text=True)
    assert f'<option selected value="{future.id}">' in page and "Mois de l&#39;ESS 2040" in page
    assert "Mois de l&#39;ESS 2040" in client.get("/events").get_data(as_text=True)
    listing = client.get("/campaigns").get_data(as_text=True)
    assert re.search(r"ESS 2040</a> <span class=\"badge\">édition de travail</span>", listing)
    assert listing.count("édition de travail") == 1 and f"/programme?campaign={demo_campaign.id}" in listing
    # the API sees the same choice, and changes it
    me = api(national)
    assert me.get("/api/v1/me").json["campaign_id"] == future.id
    assert me.get("/api/v1/me/campaign").json["campaign"]["name"] == "Mois de l'ESS 2040"
    assert me.put("/api/v1/me/campaign", json={"campaign_id": 999999}).json["error"]["fields"] == {
        "campaign_id": "Cette campagne n'existe pas."
    }
    assert me.put("/api/v1/me/campaign", json={"campaign_id": None}).json["campaign"]["id"] == demo_campaign.id
    # organisers propose events to the edition being prepared, while the public still reads 2008
    sign_out(client)
    assert "Mois de l&#39;ESS 2040" in client.get("/events/propose").get_data(as_text=True)
    assert "Mois de l&#39;ESS 2008" in client.get("/programme").get_data(as_text=True)
    # a read-only account chooses too (it changes only its own preference)
    viewer = make_user("viewer")
    assert api(viewer).put("/api/v1/me/campaign", json={"campaign_id": future.id}).status_code == 200


def test_the_archive_stays_public_while_the_newsroom_shows_the_current_edition(client, api, make_user, history):
    national = make_user("national")
    today = utcnow().astimezone(PARIS).date()
    running = make_edition(api, national, history, f"Mois de l'ESS {today.year}", today.replace(day=1))
    upcoming = make_edition(api, national, history, f"Mois de l'ESS {today.year + 1}", date(today.year + 1, 11, 1))
    db.session.add(PressRelease(campaign_id=running.id, title="L'édition en cours est lancée", ready=True))
    db.session.commit()

    newsroom = client.get("/newsroom").get_data(as_text=True)
    assert "L&#39;édition en cours est lancée" in newsroom and "Le Mois de l&#39;ESS 2008 est lancé" not in newsroom
    assert 'href="/newsroom?edition=2008"' in newsroom and upcoming.name.replace("'", "&#39;") not in newsroom
    archive = client.get("/newsroom?edition=2008").get_data(as_text=True)
    assert "Le Mois de l&#39;ESS 2008 est lancé" in archive and "Archive" in archive
    assert "Le Mois de l&#39;ESS 2008 est lancé" in client.get(f"/newsroom?campaign={history.id}").get_data(
        as_text=True
    )
    assert "ESS 2008 est lancé</title>" in client.get("/newsroom/feed.atom?edition=2008").get_data(as_text=True)

    programme = client.get("/programme").get_data(as_text=True)
    assert "Forum de l&#39;ESS à Paris" not in programme and 'href="/programme?edition=2008"' in programme
    old = client.get("/programme?edition=2008").get_data(as_text=True)
    assert "Forum de l&#39;ESS à Paris" in old and "Voir l'édition en cours" in old
    assert "Forum de l'ESS à Paris" in client.get("/programme.ics?edition=2008").get_data(as_text=True)
    assert 'name="edition" value="2008"' in old  # the filters stay in that edition
    assert client.get("/programme?edition=1999").status_code == 404
    assert client.get("/newsroom?edition=nothing").status_code == 404


def test_a_regional_user_sees_its_region_only_in_either_edition(client, login, api, make_user, regions, demo_campaign):
    new = make_edition(api, make_user("national"), demo_campaign, "Mois de l'ESS 2027", date(2027, 11, 1))
    coordinator = make_user("regional", "11")
    for campaign in (demo_campaign, new):
        items = api(coordinator).get(f"/api/v1/campaigns/{campaign.id}/milestones?per_page=200").json["items"]
        assert items and {m["region"] for m in items} <= {None, "11"}
        assert "11" in {m["region"] for m in items}
        other = one(campaign, "regional_press_conference", regions["93"].id)
        assert api(coordinator).patch(f"/api/v1/milestones/{other.id}", json={"status": "done"}).status_code in (
            403,
            404,
        )
    login(coordinator)
    page = client.get(f"/campaigns/{new.id}").get_data(as_text=True)
    assert "Conférence de presse — Ile de France" in page
    assert "Conférence de presse — Provence-Alpes-Côte d’Azur" not in page
    # its region's page lists the edition it works on, not every edition's milestones mixed
    assert "septembre 2008" in client.get("/regions/11").get_data(as_text=True)
    api(coordinator).put("/api/v1/me/campaign", json={"campaign_id": new.id})
    region_page = client.get("/regions/11").get_data(as_text=True)
    assert "septembre 2027" in region_page and "septembre 2008" not in region_page


def test_a_page_looks_the_working_edition_up_once(client, login, api, make_user, demo_campaign):
    """The region page and the menu's edition switcher both ask for the working edition: one query
    finds it, another lists the editions for the switcher; a new edition is seen at the next request."""
    from sqlalchemy import event

    national = make_user("national")
    login(national)
    statements = []

    def record(conn, cursor, statement, *args):
        if "FROM campaigns" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get("/regions/11").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert f'<option selected value="{demo_campaign.id}">' in page
    assert len(statements) == 2, statements
    newer = make_edition(api, national, demo_campaign, "Mois de l'ESS 2025", date(2025, 11, 1))
    page = client.get("/regions/11").get_data(as_text=True)
    assert f'<option selected value="{newer.id}">' in page  # started in 2025: the default now


@pytest.mark.parametrize("campaign_id", [2**31, 2**70])
def test_an_edition_id_beyond_any_campaign_is_refused_by_name(
    api, client, login, make_user, demo_campaign, campaign_id
):
    national = make_user("national")
    answer = api(national).put("/api/v1/me/campaign", json={"campaign_id": campaign_id})
    assert answer.status_code == 422 and "campaign_id" in answer.json["error"]["fields"], answer.json
    login(national)
    token = csrf_from(client.get("/contacts").get_data(as_text=True))
    chosen = client.post(
        "/campaigns/choose",
        data={"switch-csrf_token": token, "switch-campaign_id": str(campaign_id), "switch-next": "/contacts"},
        follow_redirects=True,
    )
    assert chosen.status_code == 200 and "Cette campagne n&#39;existe pas." in chosen.get_data(as_text=True)
    assert db.session.get(User, national.id).campaign_id is None


def test_an_assembly_date_out_of_any_calendar_is_refused_by_name(api, client, login, make_user, demo_campaign):
    national = make_user("national")
    payload = {"name": "2027", "event_month_start": "2027-11-01", "ag_date": "0001-01-01"}
    answer = api(national).post(f"/api/v1/campaigns/{demo_campaign.id}/new-edition", json=payload)
    assert answer.status_code == 422 and "ag_date" in answer.json["error"]["fields"], answer.json
    login(national)
    url = f"/campaigns/{demo_campaign.id}/new-edition"
    token = csrf_from(client.get(url).get_data(as_text=True))
    page = client.post(url, data={"csrf_token": token, **payload})
    assert page.status_code == 200 and "l&#39;année doit être comprise entre 1970 et 2200" in page.get_data(
        as_text=True
    )
    assert count(Campaign) == 1
