"""Boundaries at the edges, attacked as another region's coordinator, a viewer or an anonymous visitor
would: sign-in and keys, what a viewer takes away, what a regional mailing may link to and send as,
feeds per reader, huge inputs and import reports."""

import pytest

from extensions import db
from tests.conftest import PASSWORD, csrf_from, sign_out
from tests.test_boundaries import regional_mailing, signed_in
from tests.test_press_helpers import conference

PACA, BRETAGNE = "93", "53"


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
    forged = client.post("/logout")  # a form on another site: no token, nothing ends
    assert forged.status_code == 400 and client.get("/").status_code == 200
    assert client.get("/logout").status_code == 200 and client.get("/").status_code == 200  # a link only asks
    sign_out(client)  # the menu's button
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
