"""Mailings through the API and the pages: status machine, approval, preview, test, unsubscribe."""

import hashlib
import re

from sqlalchemy import select

from contacts.models import Contact, Suppression
from contacts.preferences import SubscriptionChoice
from extensions import db
from mailings.models import Delivery, Mailing
from mailings.tokens import unsubscribe_token
from tests.conftest import csrf_from
from tests.fixtures_mail import DEMO_HTML, DEMO_SUBJECT


def create(api_client, contacts, **extra):
    template = api_client.post(
        "/api/v1/templates", json={"name": "Invitation", "subject": DEMO_SUBJECT, "html": DEMO_HTML}
    )
    assert template.status_code == 201, template.get_json()
    body = {
        "template_id": template.get_json()["id"],
        "name": "Invitation presse",
        "from_name": "CRESS PACA",
        "from_email": "presse@example.org",
        "reply_to": "contact@example.org",
        "audience": {"contact_ids": [c.id for c in contacts]},
        **extra,
    }
    answer = api_client.post("/api/v1/mailings", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_national_mailing_lifecycle_through_the_api(api, make_user, make_contact, demo_campaign, mail_app, smtp_server):
    lead = api(make_user("national"))
    people = [make_contact(region="93"), make_contact(region="93")]
    mailing = create(lead, people)
    assert mailing["status"] == "draft" and mailing["audience_size"] == 2
    assert mailing["audience"] == {"list_ids": [], "segment_ids": [], "contact_ids": sorted(p.id for p in people)}
    mid = mailing["id"]
    preview = lead.get(f"/api/v1/mailings/{mid}/preview?contact_id={people[0].id}").get_json()
    assert "Bonjour Camille," in preview["html"] and preview["kb"] > 0
    test = lead.post(f"/api/v1/mailings/{mid}/test", json={"email": "moi@example.org"})
    assert test.status_code == 200, test.get_json()
    assert [m.rcpt_tos for m in smtp_server.messages] == [["moi@example.org"]]
    scheduled = lead.post(f"/api/v1/mailings/{mid}/schedule", json={"send_at": "2099-09-09T10:00:00"})
    assert scheduled.status_code == 200 and scheduled.get_json()["status"] == "scheduled"
    assert scheduled.get_json()["scheduled_at"].startswith("2099-09-09T08:00:00")  # Paris summer time, read as local
    edit = lead.patch(f"/api/v1/mailings/{mid}", json={"name": "Autre"})
    assert edit.status_code == 422  # only drafts are edited
    assert lead.post(f"/api/v1/mailings/{mid}/pause").get_json()["status"] == "paused"
    assert lead.post(f"/api/v1/mailings/{mid}/resume").get_json()["status"] == "scheduled"
    sending = lead.post(f"/api/v1/mailings/{mid}/send-now").get_json()
    assert sending["status"] == "sending" and sending["stats"]["total"] == 2 and sending["stats"]["pending"] == 2
    again = lead.post(f"/api/v1/mailings/{mid}/send-now")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    log = lead.get(f"/api/v1/mailings/{mid}/deliveries?status=pending").get_json()
    assert log["total"] == 2 and {d["email"] for d in log["items"]} == {p.email for p in people}
    assert lead.get(f"/api/v1/mailings/{mid}/deliveries?status=nonsense").status_code == 422
    cancelled = lead.post(f"/api/v1/mailings/{mid}/cancel").get_json()
    assert cancelled["status"] == "cancelled"


def test_regional_mailing_needs_national_approval(api, make_user, make_contact, demo_campaign, regions):
    regional = api(make_user("regional", region="93"))
    lead = api(make_user("national"))
    other_region = api(make_user("regional", region="91"))
    mailing = create(regional, [make_contact(region="93")], from_name="CRESS PACA", from_email="cress@example.org")
    mid = mailing["id"]
    assert mailing["region"] == "93"
    refused = regional.post(f"/api/v1/mailings/{mid}/send-now")
    assert refused.status_code == 403
    assert other_region.get(f"/api/v1/mailings/{mid}").status_code == 403
    assert regional.post(f"/api/v1/mailings/{mid}/submit").get_json()["status"] == "submitted"
    assert regional.post(f"/api/v1/mailings/{mid}/approve").status_code == 403
    approved = lead.post(f"/api/v1/mailings/{mid}/approve").get_json()
    assert approved["status"] == "approved"
    assert (
        regional.post(f"/api/v1/mailings/{mid}/schedule", json={"send_at": "2099-01-02T09:00:00+01:00"}).status_code
        == 200
    )


def test_bad_input_names_the_field(api, make_user, make_contact, demo_campaign):
    lead = api(make_user("national"))
    bad = lead.post(
        "/api/v1/mailings",
        json={"template_id": 999, "name": "x", "from_name": "A\r\nBcc: x@evil.example", "from_email": "not-an-address"},
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert {"template_id", "from_email", "from_name"} <= set(fields)
    assert db.session.query(Mailing).count() == 0
    mailing = create(lead, [make_contact()])
    empty = lead.post(f"/api/v1/mailings/{mailing['id']}/schedule", json={})
    assert empty.status_code == 422 and "send_at" in empty.get_json()["error"]["fields"]


def test_unsubscribe_get_changes_nothing_post_is_one_click_and_idempotent(client, make_contact, make_mailing, app):
    person = make_contact(email="lea@example.org")
    mailing = make_mailing([person])
    token = unsubscribe_token(person.id, mailing.id)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "Me désinscrire" in page.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Contact, person.id).opted_out
    for _ in range(2):  # RFC 8058 body, no cookie, no CSRF token; twice is the same
        answer = client.post(
            f"/unsubscribe/{token}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.status_code == 200 and "désinscrite de ces envois" in answer.get_data(as_text=True)
    db.session.expire_all()
    # one click stops the stream of the message (a national mailing: national), not everything
    assert not db.session.get(Contact, person.id).opted_out
    assert db.session.execute(select(SubscriptionChoice.stream, SubscriptionChoice.receives)).all() == [
        ("national", False)
    ]
    # a link without its message (mailing 0) stops everything, as it always did
    assert client.post(f"/unsubscribe/{unsubscribe_token(person.id, 0)}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Contact, person.id).opted_out
    digest = hashlib.sha256(b"lea@example.org").hexdigest()
    assert db.session.scalars(select(Suppression.reason).where(Suppression.email_hash == digest)).all() == [
        "unsubscribed"
    ]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(f"/unsubscribe/{tampered}").status_code == 404


def test_unsubscribed_address_is_skipped_by_the_next_claim(mail_app, smtp_server, client, make_contact, make_mailing):
    from tests.test_delivery import send

    a, b = make_contact(email="a@example.org"), make_contact(email="b@example.org")
    mailing = make_mailing([a, b])
    client.post(f"/unsubscribe/{unsubscribe_token(b.id, 0)}", data={"List-Unsubscribe": "One-Click"})
    db.session.expire_all()
    mailing = send(mail_app, mailing)
    statuses = dict(
        db.session.execute(select(Delivery.email, Delivery.status).where(Delivery.mailing_id == mailing.id)).all()
    )
    assert statuses == {"a@example.org": "sent", "b@example.org": "skipped"}


def test_pages_show_templates_mailings_and_progress(
    client, login, make_user, make_contact, make_mailing, demo_campaign
):
    user = make_user("national")
    mailing = make_mailing([make_contact()], user=user)
    login(user)
    listing = client.get("/mailings").get_data(as_text=True)
    assert "Invitation presse" in listing and "Brouillon" in listing
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert "Envoyer maintenant" in page and 'id="progress-bar"' in page and "<script>" not in page
    token = csrf_from(page)
    sent = client.post(f"/mailings/{mailing.id}/send_now", data={"csrf_token": token}, follow_redirects=True)
    assert "Envoi en cours" in sent.get_data(as_text=True)
    progress = client.get(f"/mailings/{mailing.id}/progress.json").get_json()
    assert progress["status"] == "sending" and progress["stats"]["total"] == 1
    templates = client.get("/templates").get_data(as_text=True)
    assert "Modèle" in templates
    editor = client.get(f"/templates/{mailing.template_id}").get_data(as_text=True)
    assert 'sandbox=""' in editor
    preview = client.post(
        "/templates/preview",
        json={"subject": "Objet", "html": "<p>{{ contact.first_name }}</p>"},
        headers={"X-CSRFToken": csrf_from(editor)},
    )
    assert preview.status_code == 200 and "Camille" in preview.get_json()["html"]
    refused = client.post(
        "/templates/preview", json={"subject": "x", "html": "{{ config }}"}, headers={"X-CSRFToken": csrf_from(editor)}
    )
    assert refused.status_code == 422 and "config" in refused.get_json()["error"]


def test_demo_load_brings_the_three_templates(runner, app):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    from mailings.models import EmailTemplate

    names = set(db.session.scalars(select(EmailTemplate.name)))
    assert {
        "Kit relais partenaires",
        "Invitation à la conférence de presse régionale",
        "Communiqué de presse national",
    } <= names
    assert re.search(r"ready", result.output)


def test_the_audience_joins_lists_segments_and_contacts(app, make_contact, make_mailing, regions):
    from sqlalchemy import insert

    from contacts.models import ContactList, Segment, list_members
    from mailings.audience import audience_size
    from mailings.engine.deliveries import freeze_audience

    listed = make_contact(region="91", kind="partner")
    media = [make_contact(region="93"), make_contact(region="93", opted_out=True)]
    other = make_contact(region="53", kind="partner")
    contact_list = ContactList(name="Partenaires")
    segment = Segment(name="Médias PACA", filter={"kind": "media", "region": "93"})
    db.session.add_all([contact_list, segment])
    db.session.flush()
    db.session.execute(insert(list_members).values(list_id=contact_list.id, contact_id=listed.id))
    db.session.commit()
    audience = {"list_ids": [contact_list.id], "segment_ids": [segment.id], "contact_ids": [other.id, listed.id]}
    assert audience_size(audience) == {"total": 4, "reachable": 3}
    mailing = make_mailing([other])
    mailing.audience = audience
    assert freeze_audience(mailing, __import__("dbtypes").utcnow()) == 4
    assert freeze_audience(mailing, __import__("dbtypes").utcnow()) == 0  # frozen once
    db.session.commit()
    statuses = dict(
        db.session.execute(select(Delivery.contact_id, Delivery.status).where(Delivery.mailing_id == mailing.id)).all()
    )
    assert statuses == {listed.id: "pending", media[0].id: "pending", media[1].id: "skipped", other.id: "pending"}


def test_links_signed_by_plain_itsdangerous_still_work(client, make_contact, app):
    """Links in messages already sent were signed by itsdangerous's own Signer: they keep working."""
    from itsdangerous import Signer

    from mailings.tokens import RSVP_SALT, UNSUBSCRIBE_SALT, read_rsvp_token

    person = make_contact(email="ancien@example.org")
    old = Signer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).sign(f"{person.id}.0").decode()
    assert old == unsubscribe_token(person.id, 0)
    assert client.post(f"/unsubscribe/{old}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Contact, person.id).opted_out
    with app.app_context():
        rsvp = Signer(app.config["SECRET_KEY"], salt=RSVP_SALT).sign(f"{person.id}.7.yes").decode()
        assert read_rsvp_token(rsvp) == (person.id, 7, "yes")
        assert read_rsvp_token(rsvp[:-2] + "xx") is None


def test_the_mailings_page_lists_fifty_newest_first_with_a_pager(client, login, make_user, make_contact, make_mailing):
    user = make_user("national")
    first = make_mailing([make_contact(email="un@example.org")], user=user, name="Envoi 00")
    for n in range(1, 55):
        db.session.add(
            Mailing(
                campaign_id=first.campaign_id,
                template_id=first.template_id,
                name=f"Envoi {n:02d}",
                from_name=first.from_name,
                from_email=first.from_email,
                audience=first.audience,
            )
        )
    db.session.commit()
    login(user)
    page = client.get("/mailings").get_data(as_text=True)
    names = re.findall(r">(Envoi \d\d)</a>", page)
    assert names == [f"Envoi {n:02d}" for n in range(54, 4, -1)]
    assert "Page 1 sur 2" in page
    assert re.findall(r">(Envoi \d\d)</a>", client.get("/mailings?page=2").get_data(as_text=True)) == [
        f"Envoi {n:02d}" for n in range(4, -1, -1)
    ]
    assert client.get("/mailings?page=3").status_code == 404
    assert client.get("/mailings?page=-1").status_code == 400
