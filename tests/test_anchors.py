"""Dates that move together: anchors set by the playbook, a moved conference taking its invitations,
reminder and mailings with it (proposed, then applied in one audited change), and no send planned on
a weekend or a French public holiday unless a person says so."""

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accounts.models import AuditEntry
from campaign import playbook, services
from campaign.models import Milestone
from campaign.workdays import MAIL_KINDS, holidays, is_working_day
from extensions import db
from mailings import services as mailing_services
from mailings.models import Mailing
from tests.conftest import csrf_from

PARIS = ZoneInfo("Europe/Paris")
NATIONAL = "Conférence de presse nationale"
INVITATIONS = "Invitations à la conférence de presse nationale"
REMINDER = "Relance des journalistes sans réponse"


def day_of(m: Milestone) -> date:
    return m.starts_at.astimezone(PARIS).date()


def edition_2027(user, regions):
    campaign = playbook.build(
        user, "Mois de l'ESS 2027", date(2027, 6, 17), date(2027, 11, 1), sorted(regions.values(), key=lambda r: r.name)
    )
    db.session.commit()
    return campaign


def named(campaign, title: str) -> Milestone:
    return db.session.scalar(select(Milestone).where(Milestone.campaign_id == campaign.id, Milestone.title == title))


def scheduled_mailing(user, campaign, milestone, when: datetime, contact, name="Invitation conférence nationale"):
    template = mailing_services.save_template(
        user, None, {"name": f"Modèle {name}", "subject": "Invitation", "html": "<p>Bonjour</p>", "text": ""}
    )
    mailing = mailing_services.save_mailing(
        user,
        None,
        {
            "name": name,
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "template_id": template.id,
            "milestone_id": milestone.id,
            "audience": {"contact_ids": [contact.id]},
        },
        campaign=campaign,
    )
    mailing_services.transition(user, mailing, "schedule", send_at=when)
    db.session.commit()
    return mailing


def test_french_public_holidays_are_computed():
    assert set(holidays(2027)) == {
        date(2027, 1, 1),
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 1),
        date(2027, 5, 6),  # Ascension
        date(2027, 5, 8),
        date(2027, 5, 17),  # Whit Monday
        date(2027, 7, 14),
        date(2027, 8, 15),
        date(2027, 11, 1),
        date(2027, 11, 11),
        date(2027, 12, 25),
    }
    assert not is_working_day(date(2026, 12, 6)) and is_working_day(date(2026, 12, 7))


def test_the_playbook_hangs_dates_on_their_conference_and_sends_on_working_days(app, make_user, regions):
    campaign = edition_2027(make_user("national"), regions)
    national, invitations, reminder = named(campaign, NATIONAL), named(campaign, INVITATIONS), named(campaign, REMINDER)
    assert day_of(national).weekday() == 1  # a Tuesday
    assert (invitations.anchor_id, invitations.offset_days) == (national.id, -10)
    assert (reminder.anchor_id, reminder.offset_days) == (national.id, -2)
    # D-10 and D-2 of a Tuesday are a Saturday and a Sunday: both go the Friday before
    assert day_of(invitations) == day_of(national) - timedelta(days=11)
    assert day_of(reminder) == day_of(national) - timedelta(days=4)
    for m in campaign.milestones:
        if m.kind == "regional_press_conference":
            assert (m.anchor_id, m.offset_days) == (national.id, 2)
        if m.kind == "mailing" and m.region_id:
            assert m.anchor.kind == "regional_press_conference" and m.offset_days == -10
        if m.kind == "event_period" and m.region_id:
            assert m.anchor.title == "Le Mois de l'ESS" and m.offset_days == 0
        if m.kind in MAIL_KINDS:
            assert is_working_day(day_of(m)), (m.title, day_of(m))


def test_the_demo_plans_no_send_on_a_weekend_or_a_holiday(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    sends = db.session.scalars(select(Milestone).where(Milestone.kind.in_(MAIL_KINDS))).all()
    assert len(sends) > 20
    assert [m.title for m in sends if not is_working_day(day_of(m))] == []
    mailings = db.session.scalars(select(Mailing)).all()
    when = [m.scheduled_at or m.started_at for m in mailings if m.scheduled_at or m.started_at]
    assert when and [w for w in when if not is_working_day(w.astimezone(PARIS).date())] == []


def test_moving_the_national_conference_through_the_api_moves_what_hangs_on_it(
    app, api, make_user, make_contact, regions
):
    lead = make_user("national")
    campaign = edition_2027(lead, regions)
    national, invitations, reminder = named(campaign, NATIONAL), named(campaign, INVITATIONS), named(campaign, REMINDER)
    breton = named(campaign, "Conférence de presse — Bretagne")
    before = {m.id: m.starts_at for m in campaign.milestones}
    journalist = make_contact(kind="media")
    invite_at = invitations.starts_at
    pending = scheduled_mailing(lead, campaign, national, invite_at, journalist)
    gone = scheduled_mailing(lead, campaign, national, invite_at, journalist, name="Save-the-date déjà parti")
    gone.status, gone.frozen_at = "sent", invite_at
    db.session.commit()
    week_later = (national.starts_at + timedelta(days=7)).astimezone(PARIS).replace(tzinfo=None)

    # without the flag only the conference moves, and the answer lists what would have moved with it
    client = api(lead)
    answer = client.patch(f"/api/v1/milestones/{national.id}", json={"starts_at": week_later.isoformat()})
    assert answer.status_code == 200, answer.get_json()
    moves = answer.get_json()["moves"]
    assert moves["applied"] is False and answer.get_json()["moved"] == []
    proposed = {m["title"]: m for m in moves["milestones"]}
    assert {INVITATIONS, REMINDER, breton.title} <= set(proposed)
    assert proposed[INVITATIONS]["to"].startswith((day_of(invitations) + timedelta(days=7)).isoformat())
    assert {m["name"] for m in moves["mailings"]} == {pending.name, gone.name}
    db.session.expire_all()
    assert db.session.get(Milestone, invitations.id).starts_at == before[invitations.id]

    # back, then with `move_dependents`: one change moves the conference and everything hanging on it
    back = before[national.id].astimezone(PARIS).replace(tzinfo=None).isoformat()
    assert client.patch(f"/api/v1/milestones/{national.id}", json={"starts_at": back}).status_code == 200
    answer = client.patch(
        f"/api/v1/milestones/{national.id}", json={"starts_at": week_later.isoformat(), "move_dependents": True}
    )
    assert answer.status_code == 200, answer.get_json()
    moves = answer.get_json()["moves"]
    assert moves["applied"] is True
    assert {invitations.id, reminder.id, breton.id} <= set(answer.get_json()["moved"])
    db.session.expire_all()
    for m in (invitations, reminder, breton):
        assert db.session.get(Milestone, m.id).starts_at == before[m.id] + timedelta(days=7), m.title
    regional_invitation = named(campaign, "Invitations presse — Bretagne")
    assert regional_invitation.starts_at == before[regional_invitation.id] + timedelta(days=7)  # transitively
    assert db.session.get(Mailing, pending.id).scheduled_at == invite_at + timedelta(days=7)
    assert db.session.get(Mailing, gone.id).scheduled_at == invite_at  # sent: it stays, and is named
    named_gone = next(m for m in moves["mailings"] if m["name"] == gone.name)
    assert named_gone["moved"] is False and named_gone["warning"] == "déjà parti"

    # no conflict left to fix one by one
    milestones = db.session.scalars(select(Milestone).where(Milestone.campaign_id == campaign.id)).all()
    assessed = services.assess(campaign, milestones, datetime(2027, 1, 1, tzinfo=PARIS))
    assert [(m.title, w.message) for m in milestones for w in assessed[m.id].warnings] == []

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "move"))
    assert entry.entity == "milestones" and entry.entity_id == str(national.id) and entry.user_id == lead.id
    assert any(line.startswith(INVITATIONS) for line in entry.changes["moved_with"])
    assert any(line.startswith(pending.name) for line in entry.changes["moved_with"])


def a_week_later(client, national) -> tuple[dict, str]:
    """The national conference's edit form moving it a week later (its anchor and dependencies kept)."""
    page = client.get(f"/milestones/{national.id}/edit").get_data(as_text=True)
    new_start = (national.starts_at + timedelta(days=7)).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
    form = {
        "csrf_token": csrf_from(page),
        "title": national.title,
        "kind": national.kind,
        "region": "",
        "starts_at": new_start,
        "ends_at": (national.ends_at + timedelta(days=7)).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
        "status": "planned",
        "owner_id": "0",
        "anchor_id": "0",
        "depends_on": [str(m.id) for m in national.depends_on],
    }
    return form, new_start


def test_the_milestone_form_shows_the_move_then_applies_it_once(app, client, login, make_user, regions):
    lead = make_user("national")
    campaign = edition_2027(lead, regions)
    national, invitations = named(campaign, NATIONAL), named(campaign, INVITATIONS)
    before = {m.id: m.starts_at for m in campaign.milestones}
    login(lead)
    form, new_start = a_week_later(client, national)
    shown = unescape(client.post(f"/milestones/{national.id}/edit", data=form).get_data(as_text=True))
    assert "Déplacer aussi ce qui en dépend ?" in shown and INVITATIONS in shown
    assert "« Conférence de presse nationale » passe du 7 septembre 2027, 10:00 au 14 septembre 2027, 10:00." in shown
    assert "27 août 2027, 09:00 → 3 septembre 2027, 09:00" in shown  # Friday before D-10, a week later
    db.session.expire_all()
    assert db.session.get(Milestone, national.id).starts_at == before[national.id]  # nothing saved yet
    done = client.post(
        f"/milestones/{national.id}/edit",
        data={**form, "move_dependents": "yes", "proposed_for": new_start + ":00"},
        follow_redirects=True,
    )
    assert "Jalon enregistré, avec" in unescape(done.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Milestone, invitations.id).starts_at == before[invitations.id] + timedelta(days=7)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "move")) is not None


def test_a_send_on_a_sunday_or_14_july_needs_a_person_to_say_so(app, api, client, login, make_user, make_contact):
    lead = make_user("national")
    campaign = edition_2027(lead, {})
    journalist = make_contact(kind="media")
    template = mailing_services.save_template(lead, None, {"name": "M", "subject": "S", "html": "<p>x</p>"})
    mailing = mailing_services.save_mailing(
        lead,
        None,
        {
            "name": "Invitation",
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "template_id": template.id,
            "audience": {"contact_ids": [journalist.id]},
        },
        campaign=campaign,
    )
    db.session.commit()
    client_api = api(lead)
    for when, why in (("2027-07-14T10:00:00", "fête nationale"), ("2027-09-12T10:00:00", "un dimanche")):
        refused = client_api.post(f"/api/v1/mailings/{mailing.id}/schedule", json={"send_at": when})
        assert refused.status_code == 422
        message = refused.get_json()["error"]["fields"]["send_at"]
        assert message.startswith("Envoyer le : ") and why in message and "Envoyer quand même" in message
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == "draft"

    # the page: a French error naming the field, then the box ticked
    login(lead)
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    refused = client.post(
        f"/mailings/{mailing.id}/schedule",
        data={"csrf_token": csrf_from(page), "send_at": "2027-07-14T10:00"},
        follow_redirects=True,
    )
    text = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    beside = re.search(r'<small id="send_at-error" class="field-error">([^<]*)</small>', text)  # beside the field
    assert beside and "le 14 juillet 2027 est un jour férié (fête nationale)" in beside.group(1)
    assert 'value="2027-07-14T10:00"' in text  # what was typed is kept
    assert db.session.get(Mailing, mailing.id).status == "draft"
    accepted = client.post(
        f"/mailings/{mailing.id}/schedule",
        data={"csrf_token": csrf_from(page), "send_at": "2027-07-14T10:00", "allow_weekend": "y"},
        follow_redirects=True,
    )
    assert "Envoi programmé" in unescape(accepted.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == "scheduled"
    ok = client_api.post(
        f"/api/v1/mailings/{mailing.id}/schedule", json={"send_at": "2027-09-12T10:00:00", "allow_weekend": True}
    )
    assert ok.status_code == 200 and ok.get_json()["scheduled_at"].startswith("2027-09-12")


def test_a_mail_milestone_on_a_holiday_is_refused_with_the_field_named(app, api, client, login, make_user, regions):
    lead = make_user("national")
    campaign = edition_2027(lead, regions)
    body = {"kind": "mailing", "title": "Relance 14 juillet", "starts_at": "2027-07-14T09:00:00"}
    refused = api(lead).post(f"/api/v1/campaigns/{campaign.id}/milestones", json=body)
    assert refused.status_code == 422
    assert "fête nationale" in refused.get_json()["error"]["fields"]["starts_at"]
    accepted = api(lead).post(f"/api/v1/campaigns/{campaign.id}/milestones", json={**body, "allow_weekend": True})
    assert accepted.status_code == 201 and accepted.get_json()["allow_weekend"] is True

    login(lead)
    page = client.get(f"/campaigns/{campaign.id}/milestones/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "title": "Invitations du dimanche",
        "kind": "mailing",
        "region": "",
        "starts_at": "2027-09-12T09:00",
        "status": "planned",
        "owner_id": "0",
        "anchor_id": "0",
    }
    shown = unescape(client.post(f"/campaigns/{campaign.id}/milestones/new", data=form).get_data(as_text=True))
    assert 'id="starts_at-error"' in shown
    assert "Début : le 12 septembre 2027 est un dimanche" in shown and "le 10 septembre 2027" in shown
    saved = client.post(f"/campaigns/{campaign.id}/milestones/new", data={**form, "allow_weekend": "y"})
    assert saved.status_code == 302


ENGLISH = ("starts before", "depends on", "which it", "outside", "press week", "weekend", "holiday", "ends")


def test_every_timeline_warning_is_french(app, api, client, login, make_user, regions):
    lead = make_user("national")
    campaign = edition_2027(lead, regions)
    national = named(campaign, NATIONAL)
    breton = named(campaign, "Conférence de presse — Bretagne")
    reminder = named(campaign, REMINDER)
    breton.starts_at += timedelta(days=14)  # out of the press week
    breton.ends_at += timedelta(days=14)
    national_release = named(campaign, "Communiqué de presse national")
    national_release.starts_at -= timedelta(days=1)  # before the conference it depends on
    reminder.starts_at += timedelta(days=2)  # Friday → Sunday
    db.session.commit()

    release, invitations, then = national_release.title, "Invitations presse — Bretagne", " : déplacez-le avec lui"
    wanted = {
        (breton.title, "outside_press_week"): "conférence régionale hors de la semaine de la conférence nationale (",
        (breton.title, "off_anchor"): f"à J+16 de « {national.title} » au lieu de J+2{then}",
        (release, "before_dependency"): f"commence avant la fin de « {national.title} », dont il dépend",
        (release, "off_anchor"): f"à J-1 de « {national.title} » au lieu de jour J{then}",
        (reminder.title, "closed_day"): "envoi prévu un dimanche : rien ne part un week-end ou un jour férié",
        (invitations, "off_anchor"): f"à J-24 de « {breton.title} » au lieu de J-10{then}",
    }
    rows = api(lead).get(f"/api/v1/campaigns/{campaign.id}/milestones?per_page=200").get_json()["items"]
    found = {(row["title"], w["code"]): w["message"] for row in rows for w in row["warnings"]}
    assert set(found) == set(wanted)
    for key, start in wanted.items():
        assert found[key].startswith(start), found[key]
        assert not any(word in found[key] for word in ENGLISH), found[key]

    login(lead)
    page = unescape(client.get(f"/campaigns/{campaign.id}").get_data(as_text=True))
    for message in found.values():
        assert f"⚠ {message}" in page
    shown = [line for line in page.splitlines() if "⚠" in line]
    assert shown and not any(word in line for line in shown for word in ENGLISH)
    assert "J-2 de « Conférence de presse nationale »" in page  # the anchor, as people say it


def test_a_regional_coordinator_moves_its_own_conference_and_nothing_of_other_regions(app, api, make_user, regions):
    campaign = edition_2027(make_user("national"), regions)
    breton = make_user("regional", region="53")
    conference = named(campaign, "Conférence de presse — Bretagne")
    invitation = named(campaign, "Invitations presse — Bretagne")
    before = {m.id: m.starts_at for m in campaign.milestones}
    later = (conference.starts_at + timedelta(days=1)).astimezone(PARIS).replace(tzinfo=None).isoformat()
    client = api(breton)
    answer = client.patch(f"/api/v1/milestones/{conference.id}", json={"starts_at": later, "move_dependents": True})
    assert answer.status_code == 200, answer.get_json()
    assert [m["title"] for m in answer.get_json()["moves"]["milestones"]] == [invitation.title]
    db.session.expire_all()
    # D-10 of a Friday is a Tuesday: the invitations follow by a day
    assert db.session.get(Milestone, invitation.id).starts_at == before[invitation.id] + timedelta(days=1)
    changed = [m.title for m in db.session.scalars(select(Milestone)) if m.starts_at != before[m.id]]
    assert sorted(changed) == sorted([conference.title, invitation.title])

    # another region's milestone is no anchor for it; a loop is refused; both name the field
    alsace = named(campaign, "Conférence de presse — Alsace")
    refused = client.patch(f"/api/v1/milestones/{invitation.id}", json={"anchor_id": alsace.id})
    assert refused.status_code == 422 and "anchor_id" in refused.get_json()["error"]["fields"]
    loop = client.patch(f"/api/v1/milestones/{conference.id}", json={"anchor_id": invitation.id})
    assert loop.status_code == 422 and "boucle" in loop.get_json()["error"]["fields"]["anchor_id"]
    # a new gap alone moves the date: D-12 of the Friday conference is a Sunday, the send goes Friday
    moved = client.patch(f"/api/v1/milestones/{invitation.id}", json={"offset_days": -12}).get_json()
    assert moved["offset_days"] == -12
    assert moved["starts_at"].startswith((day_of(conference) - timedelta(days=14)).isoformat())


def test_moving_only_the_conference_leaves_a_french_warning_on_what_stayed(app, client, login, make_user, regions):
    lead = make_user("national")
    campaign = edition_2027(lead, regions)
    national, invitations = named(campaign, NATIONAL), named(campaign, INVITATIONS)
    login(lead)
    form, new_start = a_week_later(client, national)
    form = {**form, "move_dependents": "no", "proposed_for": new_start + ":00"}
    done = unescape(client.post(f"/milestones/{national.id}/edit", data=form, follow_redirects=True).get_data(True))
    assert "Jalon enregistré ; ce qui en dépend reste à sa place." in done
    assert f"⚠ à J-18 de « {NATIONAL} » au lieu de J-10 : déplacez-le avec lui ou changez l'écart" in done
    db.session.expire_all()
    assert db.session.get(Milestone, invitations.id).starts_at == invitations.starts_at
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "move")) is None


def test_a_milestone_with_only_a_mailing_scheduled_from_it_proposes_to_move_the_mailing(
    app, api, make_user, make_contact, regions
):
    lead = make_user("national")
    campaign = edition_2027(lead, regions)
    launch = named(campaign, "Lancement interne à l'AG annuelle")  # nothing hangs on it
    when = datetime(2027, 6, 7, 9, 0, tzinfo=PARIS)  # a Monday
    mailing = scheduled_mailing(lead, campaign, launch, when, make_contact(kind="media"), name="Convocation AG")
    later = (launch.starts_at + timedelta(days=1)).astimezone(PARIS).replace(tzinfo=None).isoformat()
    answer = api(lead).patch(f"/api/v1/milestones/{launch.id}", json={"starts_at": later, "move_dependents": True})
    body = answer.get_json()
    assert answer.status_code == 200 and body["moves"]["milestones"] == [] and body["moved"] == []
    assert [(m["name"], m["moved"]) for m in body["moves"]["mailings"]] == [("Convocation AG", True)]
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).scheduled_at == when + timedelta(days=1)


def test_a_new_edition_keeps_the_anchors_and_its_sends_on_working_days(app, make_user, regions):
    from campaign import editions

    lead = make_user("national")
    source = edition_2027(lead, regions)
    target, _ = editions.new_edition(lead, source, "Mois de l'ESS 2028", date(2028, 11, 1), date(2028, 6, 15))
    db.session.commit()
    national, invitations = named(target, NATIONAL), named(target, INVITATIONS)
    assert invitations.anchor_id == national.id and invitations.offset_days == -10
    sends = [m for m in target.milestones if m.kind in MAIL_KINDS]
    assert sends and [m.title for m in sends if not is_working_day(day_of(m))] == []


@pytest.mark.parametrize("field", ["anchor_id", "owner_id", "depends_on"])
def test_an_id_beyond_any_row_is_refused_by_name(api, make_user, demo_campaign, field):
    milestone = db.session.scalars(select(Milestone).where(Milestone.campaign_id == demo_campaign.id)).first()
    value = [2**31] if field == "depends_on" else 2**31
    answer = api(make_user("national")).patch(f"/api/v1/milestones/{milestone.id}", json={field: value})
    named = answer.json["error"]["fields"]
    assert answer.status_code == 422 and [name for name in named if name.split(".")[0] == field], answer.json


def test_a_regional_milestone_form_offers_only_what_its_region_reads(client, login, make_user, regions, demo_campaign):
    """The anchor and dependency lists name the national milestones and the region's own, never another region's."""
    other = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == demo_campaign.id, Milestone.region_id == regions["53"].id)
    ).first()
    own = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == demo_campaign.id, Milestone.region_id == regions["11"].id)
    ).first()
    login(make_user("regional", "11"))
    page = client.get(f"/campaigns/{demo_campaign.id}/milestones/new?region=11").get_data(as_text=True)
    assert f'value="{own.id}"' in page
    assert f'value="{other.id}"' not in page and other.title not in unescape(page)


def test_a_regional_milestone_cannot_depend_on_another_regions(api, make_user, regions, demo_campaign):
    other = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == demo_campaign.id, Milestone.region_id == regions["53"].id)
    ).first()
    own = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == demo_campaign.id, Milestone.region_id == regions["11"].id)
    ).first()
    before = [m.id for m in own.depends_on]
    answer = api(make_user("regional", "11")).patch(f"/api/v1/milestones/{own.id}", json={"depends_on": [other.id]})
    assert answer.status_code == 422 and "depends_on" in answer.json["error"]["fields"], answer.json
    db.session.expire_all()
    assert [m.id for m in db.session.get(Milestone, own.id).depends_on] == before


def test_what_hangs_on_a_milestone_is_listed_within_the_readers_region(
    api, client, login, make_user, regions, demo_campaign
):
    other = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == demo_campaign.id, Milestone.region_id == regions["53"].id)
    ).first()
    own = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == demo_campaign.id, Milestone.region_id == regions["11"].id)
    ).first()
    assert (
        api(make_user("national")).patch(f"/api/v1/milestones/{other.id}", json={"anchor_id": own.id}).status_code
        == 200
    )
    login(make_user("regional", "11"))
    page = unescape(client.get(f"/milestones/{own.id}/edit").get_data(as_text=True))
    assert own.title in page and other.title not in page
