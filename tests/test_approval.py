"""Approval that flows: a regional mailing waits under "À traiter" and national is told by email
(a real loopback SMTP server); approved, it goes at its time by the scheduler without the region;
sent back, the region gets the comment; an approved invitation's reminder needs no second approval
unless its text changed; nobody sees a button they may not use."""

import html
import re
from datetime import timedelta

from sqlalchemy import select

from dbtypes import utcnow
from extensions import db
from mailings import approval, services
from mailings.approval_models import MailingApproval
from mailings.models import Mailing
from mailings.scheduler import dispatch_due
from press import conferences
from tests.conftest import PASSWORD, csrf_from
from tests.fixtures_mail import sending
from tests.test_press_helpers import conference, deliver, text_part

PACA = "93"


def regional_draft(api_client, contacts, **extra) -> int:
    template = api_client.post(
        "/api/v1/templates",
        json={"name": "Invitation", "subject": "Invitation : {{ campaign.name }}", "html": "<p>Bonjour</p>"},
    )
    assert template.status_code == 201, template.get_json()
    answer = api_client.post(
        "/api/v1/mailings",
        json={
            "template_id": template.get_json()["id"],
            "name": "Invitation presse PACA",
            "from_name": "CRESS PACA",
            "from_email": "presse@example.org",
            "audience": {"contact_ids": [c.id for c in contacts]},
            **extra,
        },
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def signed_in(app, user):
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    return client


def received_by(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if address in m.rcpt_tos]


def test_a_submitted_mailing_waits_under_a_traiter_and_national_is_told_by_email(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    region_user, lead = make_user("regional", region=PACA), make_user("national")
    regional = api(region_user)
    mid = regional_draft(regional, [make_contact(region=PACA, email="journaliste@example.org")])
    submitted = regional.post(
        f"/api/v1/mailings/{mid}/submit", json={"send_at": "2099-09-09T10:00:00", "comment": "Pour jeudi, merci !"}
    )
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    assert submitted.get_json()["scheduled_at"].startswith("2099-09-09T08:00:00")  # read in Paris time

    dashboard = signed_in(app, lead).get("/").text
    todo = dashboard[dashboard.index("À traiter") :]
    assert "Invitation presse PACA" in todo and f"/mailings/{mid}#approval" in todo and "à valider" in todo
    assert "Invitation presse PACA" not in signed_in(app, region_user).get("/").text  # nothing to do for the region

    assert smtp_server.messages == []  # the page did not wait on SMTP: the scheduler sends the notices
    assert approval.announce_pending(utcnow()) == 1
    assert approval.announce_pending(utcnow()) == 0  # each step is told once
    mine = received_by(smtp_server, lead.email)
    assert len(mine) == 1
    message = mine[0].parsed()
    assert message["Subject"] == "À valider : Invitation presse PACA (Provence-Alpes-Côte d’Azur)"
    text = text_part(mine[0])
    assert f"http://relais.test/mailings/{mid}#approval" in text and "Pour jeudi, merci !" in text
    assert "9 septembre 2099" in text
    assert received_by(smtp_server, region_user.email) == []  # national is told, not the region


def test_approved_it_goes_at_its_time_by_the_scheduler_without_the_region(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    region_user = make_user("regional", region=PACA)
    regional, lead = api(region_user), api(make_user("national"))
    people = [make_contact(region=PACA, email=f"media{i}@example.org") for i in range(2)]
    mid = regional_draft(regional, people)
    at = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    assert (
        regional.post(
            f"/api/v1/mailings/{mid}/submit", json={"send_at": at.isoformat(), "allow_weekend": True}
        ).status_code
        == 200
    )
    approved = lead.post(f"/api/v1/mailings/{mid}/approve", json={"comment": "Parfait."}).get_json()
    assert approved["status"] == "scheduled"

    assert dispatch_due(at - timedelta(minutes=1))["started"] == []  # not before its time
    assert dispatch_due(at + timedelta(seconds=5))["started"] == [mid]  # nobody came back for it
    assert deliver(mail_app, mid).status == "sent"
    assert {r for m in smtp_server.messages for r in m.rcpt_tos} == {"media0@example.org", "media1@example.org"}

    approval.announce_pending(utcnow())
    told = received_by(smtp_server, region_user.email)
    assert [m.parsed()["Subject"] for m in told] == ["Envoi validé : Invitation presse PACA"]
    assert "Parfait." in text_part(told[0]) and "sans autre action de votre part" in text_part(told[0])
    steps = regional.get(f"/api/v1/mailings/{mid}/approvals").get_json()
    assert [(s["decision"], s["comment"]) for s in steps["items"]] == [("submitted", ""), ("approved", "Parfait.")]
    assert steps["items"][1]["author"] == "National test"


def test_approval_of_a_mailing_whose_time_has_passed_sends_it_now(
    app, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    region_user, lead = make_user("regional", region=PACA), make_user("national")
    mailing = services.save_mailing(
        region_user,
        None,
        {
            "name": "Relance",
            "template_id": services.save_template(
                region_user, None, {"name": "T", "subject": "S", "html": "<p>x</p>"}
            ).id,
            "from_name": "CRESS PACA",
            "from_email": "presse@example.org",
            "audience": {"contact_ids": [make_contact(region=PACA, email="late@example.org").id]},
        },
    )
    now = utcnow()
    services.transition(
        region_user, mailing, "submit", now=now, send_at=now + timedelta(minutes=30), allow_weekend=True
    )
    services.transition(lead, mailing, "approve", now=now + timedelta(hours=2))  # approved late
    db.session.commit()
    assert mailing.status == "sending" and mailing.started_at == now + timedelta(hours=2)
    assert deliver(mail_app, mailing.id).status == "sent"


def test_sent_back_with_a_comment_the_region_gets_it(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    region_user = make_user("regional", region=PACA)
    regional, lead = api(region_user), api(make_user("national"))
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit")
    silent = lead.post(f"/api/v1/mailings/{mid}/reject", json={"comment": "  "})
    assert silent.status_code == 422 and "comment" in silent.get_json()["error"]["fields"]
    assert regional.get(f"/api/v1/mailings/{mid}").get_json()["status"] == "submitted"  # nothing half-done
    assert [s.decision for s in db.session.scalars(select(MailingApproval))] == ["submitted"]

    back = lead.post(f"/api/v1/mailings/{mid}/reject", json={"comment": "Le lieu manque dans le texte."})
    assert back.status_code == 200 and back.get_json()["status"] == "draft"
    assert "Le lieu manque dans le texte." in back.get_json()["status_reason"]
    approval.announce_pending(utcnow())
    told = received_by(smtp_server, region_user.email)
    assert [m.parsed()["Subject"] for m in told] == ["Envoi renvoyé par l'équipe nationale : Invitation presse PACA"]
    assert "Le lieu manque dans le texte." in text_part(told[0]) and f"/mailings/{mid}#approval" in text_part(told[0])

    region_pages = signed_in(app, region_user)
    page = region_pages.get(f"/mailings/{mid}").text
    history = page[page.index('id="approval-history"') :]
    assert "Renvoyé à la région" in history and "Le lieu manque dans le texte." in history
    assert "National test" in history
    todo = region_pages.get("/").text
    assert "renvoyé par l'équipe nationale" in todo[todo.index("À traiter") :]
    assert regional.patch(f"/api/v1/mailings/{mid}", json={"name": "Invitation presse PACA v2"}).status_code == 200
    assert regional.post(f"/api/v1/mailings/{mid}/submit").get_json()["status_reason"] == ""


def test_the_pages_offer_only_what_each_person_may_do(app, api, make_user, make_contact, demo_campaign):
    region_user, lead, viewer = make_user("regional", region=PACA), make_user("national"), make_user("viewer")
    regional = api(region_user)
    mid = regional_draft(regional, [make_contact(region=PACA)])
    draft = signed_in(app, region_user).get(f"/mailings/{mid}").text
    assert "Demander la validation" in draft
    assert "Envoyer maintenant" not in draft and ">Programmer<" not in draft  # both would be refused
    regional.post(f"/api/v1/mailings/{mid}/submit")

    waiting = signed_in(app, region_user).get(f"/mailings/{mid}").text
    assert (
        ">Valider<" not in waiting and "Renvoyer à la région" not in waiting and "Demander la validation" not in waiting
    )
    assert "En attente de validation par l'équipe nationale." in waiting
    assert ">Valider<" not in signed_in(app, viewer).get(f"/mailings/{mid}").text
    national = signed_in(app, lead).get(f"/mailings/{mid}").text
    assert ">Valider<" in national and "Renvoyer à la région" in national
    assert "valide aussi sa relance" not in national  # not a conference invitation: it covers nothing more

    refused = regional.post(f"/api/v1/mailings/{mid}/approve")  # the API says no, in French
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == "Seule l'équipe nationale valide ou renvoie les envois régionaux."
    client = signed_in(app, region_user)
    page = client.get(f"/mailings/{mid}").text
    answer = client.post(
        f"/mailings/{mid}/approval/approve", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "Seule l'équipe nationale valide ou renvoie les envois régionaux." in html.unescape(answer.text)
    assert db.session.get(Mailing, mid).status == "submitted"


def test_the_reminder_of_an_approved_invitation_goes_without_a_second_approval(
    mail_app, smtp_server, make_contact, make_user, demo_campaign, regions
):
    milestone = conference(demo_campaign, regions, PACA)
    for name in ("ana", "bob", "cleo"):
        make_contact(email=f"{name}@example.org", region=PACA, kind="media")
    region_user, lead = make_user("regional", region=PACA), make_user("national")
    invitation = conferences.invite(region_user, milestone, {"from_email": "presse@example.org"})
    db.session.commit()
    assert invitation.status == "submitted"
    page = html.unescape(signed_in(mail_app, lead).get(f"/mailings/{invitation.id}").text)
    assert "valide aussi sa relance aux contacts sans réponse" in page  # national knows what it approves
    services.transition(lead, invitation, "approve")  # asked from the conference page: it goes once approved
    db.session.commit()
    assert deliver(mail_app, invitation.id).status == "sent"

    reminder = conferences.remind(region_user, milestone, {})
    db.session.commit()
    assert reminder.status == "sending"  # no second approval
    entry = approval.latest(reminder)
    assert entry.decision == "covered" and entry.covered_by_id == invitation.id
    assert "Invitation" in entry.comment
    before = len(smtp_server.messages)
    deliver(mail_app, reminder.id)
    new = smtp_server.messages[before:]
    assert sorted(r for m in new for r in m.rcpt_tos) == ["ana@example.org", "bob@example.org", "cleo@example.org"]
    assert all(m.parsed()["Subject"].startswith("Relance") for m in new)


def test_the_reminder_needs_approval_again_when_its_text_changed(
    mail_app, smtp_server, make_contact, make_user, demo_campaign, regions
):
    milestone = conference(demo_campaign, regions, PACA)
    for name in ("ana", "bob"):
        make_contact(email=f"{name}@example.org", region=PACA, kind="media")
    region_user, lead = make_user("regional", region=PACA), make_user("national")
    invitation = conferences.invite(region_user, milestone, {"from_email": "presse@example.org"})
    services.transition(lead, invitation, "approve")
    db.session.commit()
    deliver(mail_app, invitation.id)

    conferences.save_details(region_user, milestone, {"venue": "Autre salle", "address": "1 rue Neuve"})
    reminder = conferences.remind(region_user, milestone, {})
    db.session.commit()
    assert reminder.status == "submitted"  # the reminder now says something national did not read
    assert [e.decision for e in approval.history(reminder)] == ["submitted"]

    # the invitation's own text to someone it never reached is not covered either
    stranger = make_contact(email="stranger@example.org", region=PACA, kind="media")
    follow_up = services.save_mailing(
        region_user,
        None,
        {
            "name": "Suite",
            "template_id": invitation.template_id,
            "milestone_id": milestone.id,
            "from_name": "CRESS PACA",
            "from_email": "presse@example.org",
            "audience": {"contact_ids": [stranger.id]},
        },
    )
    assert services.needs_approval(follow_up)
    follow_up.audience = {**follow_up.audience, "contact_ids": [invitation.audience["contact_ids"][0]]}
    assert not services.needs_approval(follow_up)  # same text, a recipient of the invitation: covered


def test_the_history_table_is_read_by_the_api_within_the_region(api, make_user, make_contact, demo_campaign):
    regional = api(make_user("regional", region=PACA))
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit", json={"comment": "Merci"})
    other = api(make_user("regional", region="53"))
    assert other.get(f"/api/v1/mailings/{mid}/approvals").status_code in (403, 404)
    steps = regional.get(f"/api/v1/mailings/{mid}/approvals").get_json()
    assert steps["total"] == 1 and steps["items"][0]["comment"] == "Merci"
    assert re.match(r"\d{4}-\d\d-\d\dT", steps["items"][0]["created_at"])


def test_the_running_scheduler_tells_everyone_and_starts_the_approved_mailing_at_its_time(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    import time

    region_user, lead = make_user("regional", region=PACA), make_user("national")
    region_email, lead_email = region_user.email, lead.email
    regional, national = api(region_user), api(lead)
    mid = regional_draft(regional, [make_contact(region=PACA, email="jt@example.org")])
    at = utcnow() + timedelta(seconds=12)  # time enough to submit and approve on a busy machine
    assert (
        regional.post(
            f"/api/v1/mailings/{mid}/submit", json={"send_at": at.isoformat(), "allow_weekend": True}
        ).status_code
        == 200
    )
    assert national.post(f"/api/v1/mailings/{mid}/approve").get_json()["status"] == "scheduled"
    db.session.remove()

    with sending(mail_app):
        deadline = time.monotonic() + 45
        wanted = {lead_email, region_email, "jt@example.org"}
        while not wanted <= set(smtp_server.by_recipient()) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert wanted <= set(smtp_server.by_recipient())
    assert len(smtp_server.by_recipient()[lead_email]) == 1  # told once, however many ticks ran
    mailing = db.session.get(Mailing, mid)
    assert mailing.status == "sent" and mailing.started_at >= at  # at its time, not before


def test_a_notice_the_server_cannot_take_now_goes_on_the_next_run(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    from tests.fixtures_mail import ask_for_smtp, free_port

    regional = api(make_user("regional", region=PACA))
    lead = make_user("national")
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit")
    closed = free_port()
    ask_for_smtp(closed)  # nothing listens there: the server is down
    mail_app.extensions["mail"].port = closed
    assert approval.announce_pending(utcnow()) == 0
    assert db.session.scalar(select(MailingApproval)).announced_at is None
    mail_app.extensions["mail"].port = smtp_server.port  # back up
    assert approval.announce_pending(utcnow()) == 1
    assert len(received_by(smtp_server, lead.email)) == 1


def test_a_template_changed_after_approval_tells_national_again(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    regional, lead = api(make_user("regional", region=PACA)), make_user("national")
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit", json={"send_at": "2099-01-01T09:00:00", "allow_weekend": True})
    api(lead).post(f"/api/v1/mailings/{mid}/approve")
    approval.announce_pending(utcnow())
    template_id = regional.get(f"/api/v1/mailings/{mid}").get_json()["template_id"]
    assert regional.patch(f"/api/v1/templates/{template_id}", json={"subject": "Autre objet"}).status_code == 200
    assert regional.get(f"/api/v1/mailings/{mid}").get_json()["status"] == "submitted"
    approval.announce_pending(utcnow())
    subjects = [m.parsed()["Subject"] for m in received_by(smtp_server, lead.email)]
    assert subjects == ["À valider : Invitation presse PACA (Provence-Alpes-Côte d’Azur)"] * 2
    assert "a changé après sa validation" in text_part(received_by(smtp_server, lead.email)[1])
    steps = [s["decision"] for s in regional.get(f"/api/v1/mailings/{mid}/approvals").get_json()["items"]]
    assert steps == ["submitted", "approved", "reopened"]


def test_a_send_time_already_past_is_refused_at_submission(api, make_user, make_contact, demo_campaign):
    regional = api(make_user("regional", region=PACA))
    mid = regional_draft(regional, [make_contact(region=PACA)])
    late = regional.post(f"/api/v1/mailings/{mid}/submit", json={"send_at": "2001-01-01T09:00:00"})
    assert late.status_code == 422 and "send_at" in late.get_json()["error"]["fields"]
    assert regional.get(f"/api/v1/mailings/{mid}").get_json()["status"] == "draft"


def test_scheduler_tick_sends_the_approval_emails_waiting(
    app, runner, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    regional, lead = api(make_user("regional", region=PACA)), make_user("national")
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit")
    result = runner.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0 and "approval notices sent: 1" in result.output
    assert len(received_by(smtp_server, lead.email)) == 1


def test_a_regional_mailing_with_no_approval_to_show_has_no_approval_heading(
    app, api, make_user, make_contact, demo_campaign
):
    region_user, viewer = make_user("regional", region=PACA), make_user("viewer")
    mid = regional_draft(api(region_user), [make_contact(region=PACA)])
    assert 'id="approval-title"' in signed_in(app, region_user).get(f"/mailings/{mid}").text  # it may ask
    assert 'id="approval-title"' not in signed_in(app, viewer).get(f"/mailings/{mid}").text  # nothing to read
    mailing = db.session.get(Mailing, mid)
    mailing.status = "sent"  # sent before approvals were kept (the 2008 history): no history to show
    db.session.commit()
    assert 'id="approval-title"' not in signed_in(app, region_user).get(f"/mailings/{mid}").text


def test_a_retry_tells_only_the_leads_the_server_did_not_take(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    regional = api(make_user("regional", region=PACA))
    took, doubt, later = (make_user("national", email=f"{n}@example.org") for n in ("a-lead", "b-lead", "c-lead"))
    smtp_server.behave(doubt.email, "drop-after-dot", "250")  # received, then the line dropped before the answer
    smtp_server.behave(later.email, "451", "250")  # not now: the next run
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit")

    runs = [approval.announce_pending(utcnow()) for _run in range(3)]
    asked = ["À valider : Invitation presse PACA (Provence-Alpes-Côte d’Azur)"]
    told = {
        lead.email: [m.parsed()["Subject"] for m in received_by(smtp_server, lead.email)]
        for lead in (took, doubt, later)
    }
    assert told == {took.email: asked, doubt.email: asked, later.email: asked}  # none twice, the one in doubt included
    assert runs == [0, 1, 0]  # the step is done once its last lead is told, on the second run


def test_two_ticks_at_once_tell_each_lead_once(app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server):
    import threading

    regional = api(make_user("regional", region=PACA))
    leads = [make_user("national", email=f"lead{i}@example.org").email for i in range(2)]
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit")
    db.session.remove()
    smtp_server.handler.every_message_delay = 0.4  # a slow server: the other tick runs meanwhile
    start, errors = threading.Barrier(2), []

    def tick():
        with mail_app.app_context():
            try:
                start.wait()
                approval.announce_pending(utcnow())
            except Exception as error:  # noqa: BLE001 (said by the assertion below)
                errors.append(error)
            finally:
                db.session.remove()

    ticks = [threading.Thread(target=tick) for _ in range(2)]
    for thread in ticks:
        thread.start()
    for thread in ticks:
        thread.join(30)
    assert errors == []
    assert {lead: len(received_by(smtp_server, lead)) for lead in leads} == {lead: 1 for lead in leads}
    assert db.session.scalar(select(MailingApproval)).announced_at is not None


def test_a_resubmission_after_a_send_back_tells_national_again_and_nobody_twice(
    app, api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    region_user = make_user("regional", region=PACA)
    regional, lead = api(region_user), make_user("national")
    national = api(lead)
    mid = regional_draft(regional, [make_contact(region=PACA)])
    regional.post(f"/api/v1/mailings/{mid}/submit")
    approval.announce_pending(utcnow())
    national.post(f"/api/v1/mailings/{mid}/reject", json={"comment": "Le lieu manque."})
    approval.announce_pending(utcnow())
    regional.post(f"/api/v1/mailings/{mid}/submit")  # a new submission: a new notice
    for _run in range(2):
        approval.announce_pending(utcnow())
    asked = "À valider : Invitation presse PACA (Provence-Alpes-Côte d’Azur)"
    assert [m.parsed()["Subject"] for m in received_by(smtp_server, lead.email)] == [asked, asked]
    # the region's coordinator is also the mailing's author: told once
    assert [m.parsed()["Subject"] for m in received_by(smtp_server, region_user.email)] == [
        "Envoi renvoyé par l'équipe nationale : Invitation presse PACA"
    ]
