"""Region, approval and link boundaries attacked as a regional coordinator of another region, a viewer
and an anonymous visitor would: side doors that take an id from a body or a query string."""

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from contacts.audiences import add_members, create_list, create_segment
from contacts.models import Contact, Suppression
from errors import ValidationFailed
from extensions import db
from press.models import Rsvp
from tests.conftest import PASSWORD, csrf_from
from tests.fixtures_mail import DEMO_HTML, DEMO_SUBJECT
from tests.test_press_helpers import conference

PACA, BRETAGNE = "93", "53"


def regional_mailing(client, audience: dict, **extra):
    template = client.post("/api/v1/templates", json={"name": "Invitation", "subject": DEMO_SUBJECT, "html": DEMO_HTML})
    assert template.status_code == 201, template.get_json()
    return client.post(
        "/api/v1/mailings",
        json={
            "template_id": template.get_json()["id"],
            "name": "Invitation presse",
            "from_name": "CRESS PACA",
            "from_email": "presse@example.org",
            "audience": audience,
            **extra,
        },
    )


def test_a_regional_mailing_cannot_name_another_regions_lists_or_segments(api, make_user, make_contact, demo_campaign):
    paca = api(make_user("regional", region=PACA))
    lead = make_user("national")
    journalist = make_contact(region=BRETAGNE)
    their_list = create_list(lead, "Presse bretonne", region=BRETAGNE)
    add_members(lead, their_list, [journalist.id])
    their_segment = create_segment(make_user("regional", region=BRETAGNE), "Médias bretons", {"kind": "media"})
    db.session.commit()
    for field, ids in (("list_ids", [their_list.id]), ("segment_ids", [their_segment.id])):
        answer = regional_mailing(paca, {field: ids})
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["error"]["fields"] == {f"audience.{field}": "appartient à une autre région"}
    own = regional_mailing(paca, {"contact_ids": [make_contact(region=PACA).id]}).get_json()
    edit = paca.patch(f"/api/v1/mailings/{own['id']}", json={"audience": {"list_ids": [their_list.id]}})
    assert edit.status_code == 422 and "audience.list_ids" in edit.get_json()["error"]["fields"]


def test_a_national_list_reaches_only_national_and_own_contacts_in_a_regional_mailing(
    api, make_user, make_contact, demo_campaign, mail_app
):
    """A national list (readable by every region) holding Bretagne's journalists: a PACA mailing that
    uses it, approved and sent, never writes to them and its log never shows them."""
    paca_user = make_user("regional", region=PACA)
    paca, lead = api(paca_user), api(make_user("national"))
    breton, ours, national = make_contact(region=BRETAGNE), make_contact(region=PACA), make_contact()
    everyone = create_list(make_user("national"), "Tous les médias")
    add_members(None, everyone, [breton.id, ours.id, national.id])
    db.session.commit()
    segment = lead.post("/api/v1/segments", json={"name": "Bretagne", "filter": {"region": BRETAGNE}}).get_json()
    mailing = regional_mailing(paca, {"list_ids": [everyone.id], "segment_ids": [segment["id"]]}).get_json()
    assert mailing["audience_size"] == 2
    mid = mailing["id"]
    assert paca.post(f"/api/v1/mailings/{mid}/submit").status_code == 200
    assert lead.post(f"/api/v1/mailings/{mid}/approve").status_code == 200
    assert paca.post(f"/api/v1/mailings/{mid}/send-now").status_code == 200
    log = paca.get(f"/api/v1/mailings/{mid}/deliveries").get_json()
    assert {d["email"] for d in log["items"]} == {ours.email, national.email}
    assert paca.get(f"/api/v1/contacts/{breton.id}").status_code == 403


# ---- previews and test messages: a contact read like any read, links that record nothing ----------

LINK = re.compile(r"https?://[^\s\"'<>)]+")


def signed_in(app, user):
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    return client


def personal_links(text: str) -> set[str]:
    """Links that act for one person (public pages such as the press kit are not)."""
    personal = ("/unsubscribe/", "/rsvp/", "/relay/", "/preferences/", "/test-link")
    return {u for u in LINK.findall(text) if "relais.test" in u and any(p in u for p in personal)}


def test_the_template_preview_reads_only_readable_contacts_and_signs_no_live_link(
    app, make_user, make_contact, demo_campaign, regions
):
    conference(demo_campaign, regions, PACA)
    breton = make_contact(region=BRETAGNE, first_name="Gwenaëlle", last_name="Le Goff")
    ours = make_contact(region=PACA, first_name="Marius")
    client = signed_in(app, make_user("regional", region=PACA))
    token = csrf_from(client.get("/templates").text)
    body = {"subject": DEMO_SUBJECT, "html": DEMO_HTML + '<a href="{{ unsubscribe_url }}">stop</a>'}
    stolen = client.post("/templates/preview", json={**body, "contact_id": breton.id}, headers={"X-CSRFToken": token})
    assert stolen.status_code == 403 and "Gwenaëlle" not in stolen.text and breton.email not in stolen.text
    shown = client.post("/templates/preview", json={**body, "contact_id": ours.id}, headers={"X-CSRFToken": token})
    assert shown.status_code == 200 and "Bonjour Marius" in shown.get_json()["html"]
    links = personal_links(shown.get_json()["html"] + shown.get_json()["text"])
    assert links == {"http://relais.test/test-link"}
    anonymous = app.test_client()
    page = anonymous.post("/test-link", data={"List-Unsubscribe": "One-Click"})
    assert page.status_code == 200 and "message de test" in page.text
    db.session.expire_all()
    assert not db.session.get(Contact, ours.id).opted_out
    assert db.session.scalar(select(db.func.count()).select_from(Suppression)) == 0


def test_a_viewer_preview_of_a_mailing_carries_no_live_link(api, make_user, make_contact, make_mailing, app):
    person = make_contact(region=PACA)
    mailing = make_mailing([person], html=DEMO_HTML + '<a href="{{ unsubscribe_url }}">stop</a>')
    viewer = api(make_user("viewer"))
    preview = viewer.get(f"/api/v1/mailings/{mailing.id}/preview?contact_id={person.id}").get_json()
    assert personal_links(preview["html"] + preview["text"]) == {"http://relais.test/test-link"}
    assert app.test_client().get(f"/api/v1/mailings/{mailing.id}/preview?contact_id={person.id}").status_code == 401


def test_a_test_send_as_another_regions_contact_is_refused(
    api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    paca = api(make_user("regional", region=PACA))
    breton = make_contact(region=BRETAGNE, first_name="Gwenaëlle")
    mailing = regional_mailing(paca, {"contact_ids": [make_contact(region=PACA).id]}).get_json()
    sent = paca.post(f"/api/v1/mailings/{mailing['id']}/test", json={"email": "x@example.org", "contact_id": breton.id})
    assert sent.status_code == 403
    preview = paca.get(f"/api/v1/mailings/{mailing['id']}/preview?contact_id={breton.id}")
    assert preview.status_code == 403 and "Gwenaëlle" not in preview.text
    assert smtp_server.messages == []


def test_a_test_message_is_marked_and_its_links_record_nothing(
    api, make_user, make_contact, demo_campaign, regions, mail_app, smtp_server, client
):
    from press import conferences as press

    milestone = conference(demo_campaign, regions, PACA)
    journalist = make_contact(region=PACA, first_name="Léa")
    lead = make_user("national")
    mailing = press.invite(lead, milestone, {"from_email": "presse@example.org", "contact_ids": [journalist.id]})
    db.session.commit()
    answer = api(lead).post(
        f"/api/v1/mailings/{mailing.id}/test", json={"email": "moi@example.org", "contact_id": journalist.id}
    )
    assert answer.status_code == 200, answer.get_json()
    [received] = smtp_server.messages
    message = email.message_from_bytes(received.data, policy=email.policy.strict)
    assert message["Subject"].startswith("[TEST] ")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Léa" in html
    assert personal_links(text + html + message["List-Unsubscribe"]) == {"http://relais.test/test-link"}
    for method in ("get", "post"):
        page = getattr(client, method)("/test-link", data={"answer": "yes"} if method == "post" else None)
        assert page.status_code == 200 and "rien n'a été enregistré" in page.text
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Rsvp).where(Rsvp.answer.is_not(None))) == 0
    assert not db.session.get(Contact, journalist.id).opted_out


def test_a_change_made_through_a_public_link_is_audited_as_public(client, make_contact, make_mailing):
    from accounts.models import AuditEntry
    from mailings.tokens import unsubscribe_token

    person = make_contact(region=PACA)
    mailing = make_mailing([person])
    assert client.post(f"/unsubscribe/{unsubscribe_token(person.id, mailing.id)}").status_code == 200
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "contacts", AuditEntry.entity_id == str(person.id))
        .order_by(AuditEntry.id)
    ).all()
    opted_out = entries[-1]  # the newest: the opt-out itself
    assert "opted_out" in opted_out.changes and opted_out.actor == "public"


# ---- approval fixes what is sent ------------------------------------------------------------------


def test_a_template_changed_after_approval_sends_the_mailing_back_for_approval(
    api, make_user, make_contact, demo_campaign, mail_app, smtp_server
):
    paca, lead = api(make_user("regional", region=PACA)), api(make_user("national"))
    mailing = regional_mailing(paca, {"contact_ids": [make_contact(region=PACA).id]}).get_json()
    mid, tid = mailing["id"], mailing["template_id"]
    assert paca.post(f"/api/v1/mailings/{mid}/submit").status_code == 200
    assert lead.post(f"/api/v1/mailings/{mid}/approve").get_json()["status"] == "approved"
    assert paca.post(f"/api/v1/mailings/{mid}/schedule", json={"send_at": "2099-01-01T09:00:00"}).status_code == 200
    changed = paca.patch(
        f"/api/v1/templates/{tid}", json={"html": '<p><a href="https://evil.example/">Cliquez</a></p>'}
    )
    assert changed.status_code == 200
    again = paca.get(f"/api/v1/mailings/{mid}").get_json()
    assert again["status"] == "submitted" and "valider de nouveau" in again["status_reason"]
    assert paca.post(f"/api/v1/mailings/{mid}/send-now").status_code in (403, 409)
    assert lead.post(f"/api/v1/mailings/{mid}/approve").get_json()["status"] == "approved"
    assert paca.post(f"/api/v1/mailings/{mid}/send-now").get_json()["status"] == "sending"
    frozen = paca.patch(f"/api/v1/templates/{tid}", json={"subject": "Autre chose"})
    assert frozen.status_code == 409 and frozen.get_json()["error"]["fields"] == {
        "template": "utilisé par un envoi en cours"
    }
    renamed = paca.patch(f"/api/v1/templates/{tid}", json={"name": "Invitation (copie)"})
    assert renamed.status_code == 200  # the name is not part of the message


# ---- templates: the work is bounded, at save, preview, test and send ----------------------------

COSTLY = {
    # two nested loops that print nothing (24 s in the preview before)
    "loops": '{% for a in "' + "x" * 3000 + '" %}{% for b in "' + "y" * 3000 + '" %}{% endfor %}{% endfor %}',
    # a 330-byte chain of replace that built an 11-million-character string
    "replace": "{{ 'aaaa'" + "|replace('a', 'aaaaaaaaaa')" * 7 + " }}",
    # a list joined into a huge value
    "join": "{{ ('x'" + "|replace('x', 'xxxxxxxxxx')" * 4 + ")|join('" + "y" * 200 + "') }}",
    # two values at the limit concatenated with ~, printing nothing
    "concat": "{% if (('x'"
    + "|replace('x', 'xxxxxxxxxx')" * 6
    + ") ~ ('x'"
    + "|replace('x', 'xxxxxxxxxx')" * 6
    + "))|length < 0 %}{% endif %}",
}


@pytest.mark.parametrize("attack", sorted(COSTLY))
def test_a_costly_template_is_refused_at_save_and_preview(attack, api, make_user, demo_campaign, app):
    regional = api(make_user("regional", region=PACA))
    saved = regional.post("/api/v1/templates", json={"name": "Lourd", "subject": "Objet", "html": COSTLY[attack]})
    assert (
        saved.status_code == 422 and saved.get_json()["error"]["fields"]["html"] == "le modèle demande trop de travail"
    )
    client = signed_in(app, make_user("regional", region=PACA))
    token = csrf_from(client.get("/templates").text)
    shown = client.post(
        "/templates/preview", json={"subject": "Objet", "html": COSTLY[attack]}, headers={"X-CSRFToken": token}
    )
    assert shown.status_code == 422 and shown.get_json()["fields"]["html"] == "le modèle demande trop de travail"


def test_the_send_path_bounds_a_template_that_slipped_past_the_save(
    make_user, make_contact, make_mailing, mail_app, smtp_server, api
):
    """A template written straight into the database (an old row, a restore) is bounded the same way
    when the message is composed for a recipient and when a test is sent."""
    from mailings.composer import Composer, Recipient

    person = make_contact(region=PACA)
    mailing = make_mailing([person])
    mailing.template.html = COSTLY["loops"]
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        Composer(mailing).compose(Recipient.of(person), 1)
    assert refused.value.fields == {"html": "le modèle demande trop de travail"}
    lead = api(make_user("national"))
    test = lead.post(f"/api/v1/mailings/{mailing.id}/test", json={"email": "moi@example.org"})
    assert test.status_code == 422 and test.get_json()["error"]["fields"] == {
        "html": "le modèle demande trop de travail"
    }
    assert smtp_server.messages == []


# ---- erasure clears every copy of the person ------------------------------------------------------


def test_erasure_clears_the_address_from_the_delivery_log(
    api, make_user, make_contact, make_mailing, mail_app, smtp_server, app
):
    from tests.test_delivery import send

    lead_user = make_user("national")
    lead = api(lead_user)
    person, other = make_contact(region=PACA, email="gone@example.org"), make_contact(region=PACA)
    smtp_server.behave(person.email, "550")
    mailing = send(mail_app, make_mailing([person, other]))
    assert lead.get(f"/api/v1/mailings/{mailing.id}/deliveries").get_json()["total"] == 2
    assert lead.post(f"/api/v1/contacts/{person.id}/erase").status_code == 200
    log = lead.get(f"/api/v1/mailings/{mailing.id}/deliveries").get_json()
    assert log["total"] == 2 and "gone@example.org" not in str(log)
    assert lead.get(f"/api/v1/mailings/{mailing.id}").get_json()["stats"]["total"] == 2
    page = signed_in(app, lead_user).get(f"/mailings/{mailing.id}")
    assert "gone@example.org" not in page.text and "adresse effacée" in page.text


def test_a_restored_backup_does_not_bring_an_erased_person_back(api, make_user, make_contact, runner, tmp_path):
    from contacts.services import email_hash

    lead = api(make_user("national"))
    person = make_contact(region=PACA, email="oubliez-moi@example.org")
    target = tmp_path / "relais.backup"
    assert runner.invoke(args=["backup", "create", str(target)]).exit_code == 0
    assert lead.post(f"/api/v1/contacts/{person.id}/erase").status_code == 200
    db.session.remove()
    restored = runner.invoke(args=["backup", "restore", "--yes", str(target)])
    assert restored.exit_code == 0, restored.output
    assert "1 contacts erased again" in restored.output
    assert db.session.scalar(select(Contact).where(Contact.email == "oubliez-moi@example.org")) is None
    assert db.session.scalar(select(Suppression.reason).where(Suppression.email_hash == email_hash(person.email))) == (
        "erased"
    )
