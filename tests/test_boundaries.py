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
    opted_out = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "contacts", AuditEntry.entity_id == str(person.id))
    ).all()[-1]
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


# ---- sign-in and keys --------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(app, make_user, target):
    from urllib.parse import quote

    user = make_user("national")
    client = app.test_client()
    page = client.get("/login")
    answer = client.post(
        f"/login?next={quote(target, safe='/%')}",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] in ("/", "http://localhost/")


def test_a_next_with_a_line_break_is_no_error(app, make_user):
    user = make_user("national")
    client = app.test_client()
    page = client.get("/login")
    answer = client.post(
        "/login?next=/contacts%0D%0ASet-Cookie:%20x=1",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert answer.status_code == 302 and "Set-Cookie" not in answer.headers.get("Location", "")
    assert client.get("/login?next=/x%0Ay").status_code in (200, 302)


@pytest.mark.parametrize(
    "key, says",
    [
        ("change-me-to-a-long-random-string", "placeholder"),
        ("test-secret-key-not-for-production", "placeholder"),
        ("short-key", "too short"),
    ],
)
def test_a_known_or_short_secret_key_is_refused_outside_development(key, says, monkeypatch):
    from app import create_app

    monkeypatch.setenv("RELAIS_SECRET_KEY", key)
    with pytest.raises(RuntimeError) as refused:
        create_app()
    assert says in str(refused.value) and "secrets.token_urlsafe" in str(refused.value)
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == key  # the tests' own key stays usable


# ---- low: what a viewer takes away, vCard lines ----------------------------------------------------


def test_a_viewer_reads_contacts_but_does_not_export_the_press_file(api, app, make_user, make_contact):
    make_contact(region=PACA, phone="+33612345678")
    viewer_user = make_user("viewer")
    viewer = api(viewer_user)
    assert viewer.get("/api/v1/contacts").status_code == 200
    for fmt in ("csv", "vcard"):
        assert viewer.get(f"/api/v1/contacts/export?format={fmt}").status_code == 403
        assert signed_in(app, viewer_user).get(f"/contacts/export?format={fmt}").status_code == 403
    assert "contacts/export" not in signed_in(app, viewer_user).get("/contacts").text
    assert api(make_user("regional", region=PACA)).get("/api/v1/contacts/export").status_code == 200


def test_a_lone_carriage_return_cannot_start_a_vcard_line(api, make_user, make_contact):
    make_contact(region=PACA, first_name="Léa\rNOTE:injecté")
    exported = api(make_user("national")).get("/api/v1/contacts/export?format=vcard")
    assert exported.status_code == 200
    lines = exported.text.split("\r\n")
    assert not any(line.startswith("NOTE:") for line in lines) and "\r" not in "".join(lines)


# ---- low: what a regional mailing may link to and send as ------------------------------------------


def test_a_regional_mailing_links_only_its_own_or_national_milestones(
    api, make_user, make_contact, demo_campaign, regions
):
    paca = api(make_user("regional", region=PACA))
    theirs = conference(demo_campaign, regions, BRETAGNE)
    ours = conference(demo_campaign, regions, PACA)
    audience = {"contact_ids": [make_contact(region=PACA).id]}
    refused = regional_mailing(paca, audience, milestone_id=theirs.id)
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {
        "milestone_id": "un jalon d'une autre région"
    }
    assert regional_mailing(paca, audience, milestone_id=ours.id).status_code == 201


def test_a_mailing_sends_only_as_a_configured_sender_identity(
    api, app, make_user, make_contact, demo_campaign, monkeypatch
):
    monkeypatch.setitem(
        app.config,
        "MAIL_SENDERS",
        {"national": ["presse@cncres.example"], PACA: ["@cress-paca.example"], BRETAGNE: ["@cress-bretagne.example"]},
    )
    paca, lead = api(make_user("regional", region=PACA)), api(make_user("national"))
    audience = {"contact_ids": [make_contact(region=PACA).id]}
    for address, wanted in (
        ("contact@cress-paca.example", 201),
        ("presse@cncres.example", 201),
        ("contact@cress-bretagne.example", 422),
        ("anyone@evil.example", 422),
    ):
        answer = regional_mailing(paca, audience, from_email=address)
        assert answer.status_code == wanted, (address, answer.get_json())
        if wanted == 422:
            assert list(answer.get_json()["error"]["fields"]) == ["from_email"]
    assert regional_mailing(lead, audience, from_email="presse@cncres.example").status_code == 201
    assert regional_mailing(lead, audience, from_email="contact@cress-paca.example").status_code == 422


def test_without_configured_senders_the_federation_domain_is_the_identity(api, make_user, make_contact, demo_campaign):
    paca = api(make_user("regional", region=PACA))
    audience = {"contact_ids": [make_contact(region=PACA).id]}
    assert regional_mailing(paca, audience, from_email="presse@example.org").status_code == 201
    refused = regional_mailing(paca, audience, from_email="ceo@bank.example")
    assert refused.status_code == 422 and "from_email" in refused.get_json()["error"]["fields"]


# ---- low: feeds per reader, links from the public address, headers ------------------------------


def test_a_regional_readers_calendar_url_holds_what_it_may_read(api, make_user, demo_campaign, regions, client):
    import icalendar

    from campaign.models import Milestone

    regional = api(make_user("regional", region=PACA))
    url = regional.get(f"/api/v1/campaigns/{demo_campaign.id}").get_json()["calendar_url"]
    assert demo_campaign.calendar_token not in url
    path = url.replace("http://relais.test", "")
    allowed = {None, regions[PACA].id}
    for query in ("", "?region=" + BRETAGNE):
        feed = client.get(path + query)
        assert feed.status_code == 200
        uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(feed.data).walk("VEVENT")]
        ids = [int(uid.split("@")[0].removeprefix("milestone-")) for uid in uids]
        assert ids and all(db.session.get(Milestone, i).region_id in allowed for i in ids)
    assert client.get(path[:-8] + "AAAAAAAA.ics").status_code == 404  # a forged signature
    national = api(make_user("national")).get(f"/api/v1/campaigns/{demo_campaign.id}").get_json()["calendar_url"]
    assert demo_campaign.calendar_token in national


def test_links_and_uids_come_from_the_public_address_not_the_host_header(client, demo_campaign):
    headers = {"Host": "evil.example"}
    newsroom = client.get("/newsroom", headers=headers)
    assert "evil.example" not in newsroom.text and 'content="http://relais.test/newsroom' in newsroom.text
    for feed in (
        "/newsroom/feed.atom",
        "/newsroom/feed.rss",
        "/programme.ics",
        f"/calendar/{demo_campaign.calendar_token}.ics",
    ):
        answer = client.get(feed, headers=headers)
        assert answer.status_code == 200 and b"evil.example" not in answer.data, feed
    assert client.get("/login").headers["Permissions-Policy"].startswith("camera=()")


# ---- low: unhandled errors --------------------------------------------------------------------------


def test_huge_page_numbers_and_long_searches_are_no_server_error(app, make_user, make_contact):
    make_contact(region=PACA, first_name="Léa")
    client = signed_in(app, make_user("admin"))
    for url in ("/contacts?page=1e21", "/admin/audit?page=1e21", "/contacts?page=99999999999999999999"):
        assert client.get(url).status_code == 400, url
    words = " ".join(f"mot{i}" for i in range(3000))
    assert client.get("/contacts", query_string={"q": words}).status_code == 200
    assert client.get("/contacts", query_string={"q": "Léa " * 3000}).status_code == 200


def test_sign_out_ends_the_session_and_remember_cookies(app, make_user):
    user = make_user("national")
    client = app.test_client()
    page = client.get("/login")
    client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": csrf_from(page.text)}
    )
    cookies = {c.key: c.value for c in client._cookies.values()}
    assert "remember_token" in cookies and client.get("/").status_code == 200
    assert client.get("/logout").status_code == 302  # the menu's link
    for name in ("session", "remember_token"):
        thief = app.test_client()
        thief.set_cookie(name, cookies[name])
        assert thief.get("/").status_code == 302, name  # back to the sign-in page
    again = app.test_client()
    page = again.get("/login")
    again.post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": csrf_from(page.text)}
    )
    assert {c.key: c.value for c in again._cookies.values()}["remember_token"] != cookies["remember_token"]
    assert again.get("/").status_code == 200


def test_failed_sign_ins_elsewhere_never_lock_the_owner_out(app, make_user, monkeypatch):
    from argon2 import PasswordHasher

    admin = make_user("admin")

    def attempt(addr: str, email: str, password: str):
        client = app.test_client()
        page = client.get("/login", environ_base={"REMOTE_ADDR": addr})
        return client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
            environ_base={"REMOTE_ADDR": addr},
        )

    for _ in range(10):
        assert attempt("203.0.113.9", admin.email, "mauvais mot de passe").status_code == 200
    assert attempt("203.0.113.9", admin.email, PASSWORD).status_code == 429  # the attacker's client is refused
    assert attempt("198.51.100.7", admin.email, PASSWORD).status_code == 302  # the owner signs in from elsewhere

    verified = []
    original = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: verified.append(h) or original(self, h, p))
    attempt("198.51.100.8", "personne@example.org", "un mot de passe")
    attempt("198.51.100.8", admin.email, "un mot de passe")
    assert len(verified) == 2  # an unknown address costs a password check too: no timing tells them apart


# ---- low: imports report less ----------------------------------------------------------------------


def test_an_import_report_is_capped_and_says_nothing_of_other_regions_or_erasures(api, make_user, make_contact):
    from tests.test_contacts_import import post_import

    paca_user = make_user("regional", region=PACA)
    paca, lead = api(paca_user), api(make_user("national"))
    breton = make_contact(region=BRETAGNE, email="breton@example.org")
    erased = make_contact(region=PACA, email="efface@example.org")
    assert lead.post(f"/api/v1/contacts/{erased.id}/erase").status_code == 200
    rows = ["Prénom;Nom;Courriel", "Yann;Le Bihan;breton@example.org", "Eva;Ferracci;efface@example.org"]
    report = post_import(paca, "\n".join(rows).encode()).get_json()
    first, second = report["errors"][0]["message"], report["errors"][1]["message"]
    assert first == second  # the same answer: another region's contact or an erased address
    assert "région" not in first.replace("hors de votre périmètre", "") and "effac" not in first
    many = ["Prénom;Nom;Courriel"] + [f"X;Y;pas-une-adresse-{i}" for i in range(500)]
    report = post_import(paca, "\n".join(many).encode()).get_json()
    assert report["rejected"] == 500 and len(report["errors"]) == 100
    created = paca.post(
        "/api/v1/contacts", json={"email": breton.email, "first_name": "Yann", "legal_basis": "consent"}
    )
    assert created.status_code == 409 and "breton@example.org" not in created.text
