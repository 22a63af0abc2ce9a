"""In Chromium: invite a region's media from its conference page, answer yes from the link in the
message received by a real loopback SMTP server, see the answer on the conference page and on the
national view."""

from extensions import db
from tests.conftest import PASSWORD
from tests.test_press_helpers import conference, deliver, links


def test_invite_answer_and_see_it(
    page,
    live_server,
    browser_login,
    make_user,
    make_contact,
    mail_app,
    smtp_server,
    demo_campaign,
    regions,
    console_errors,
    artifacts,
):
    mail_app.config["PUBLIC_BASE_URL"] = live_server  # links in the messages point at this server
    try:
        milestone = conference(demo_campaign, regions, "93")
        lea = make_contact(email="lea.journaliste@example.org", first_name="Léa", last_name="Garnier", region="93")
        make_contact(email="marc.redaction@example.org", first_name="Marc", last_name="Aubry", region="93")
        make_contact(email="ailleurs@example.org", region="91")
        milestone_id, lea_id = milestone.id, lea.id
        browser_login(make_user("national"), PASSWORD)

        page.goto(f"{live_server}/press/conferences/{milestone_id}")
        page.get_by_label("Adresse de l'expéditeur").fill("presse@example.org")
        page.get_by_role("button", name="Inviter les médias de la région").click()
        page.get_by_text("Envoi parti vers 2 contacts").wait_for()
        db.session.remove()
        deliver(mail_app, 0)

        messages = smtp_server.by_recipient()
        assert set(messages) == {"lea.journaliste@example.org", "marc.redaction@example.org"}
        yes, _no = links(messages["lea.journaliste@example.org"][0], "rsvp")
        assert yes.startswith(f"{live_server}/rsvp/")

        page.goto(yes)
        page.get_by_role("button", name="Je confirme : je serai présent·e").click()
        page.get_by_text("merci, c'est noté").wait_for()
        assert page.locator("#current-answer").inner_text().startswith("Votre réponse : Oui")

        page.goto(f"{live_server}/press/conferences/{milestone_id}")
        row = page.locator(f'#attendance tr[data-contact="{lea_id}"]')
        assert row.locator(".answer").inner_text() == "Oui"
        assert page.locator('[data-count="yes"]').inner_text() == "1"
        assert page.locator('[data-count="pending"]').inner_text() == "1"
        page.screenshot(path=str(artifacts / "press-conference.png"), full_page=True)

        page.goto(f"{live_server}/press/")
        paca = page.locator('#national-view tr[data-region="93"]')
        assert paca.locator('[data-col="yes"]').inner_text() == "1"
        assert paca.locator('[data-col="pending"]').inner_text() == "1"
        assert page.locator('#national-view tr[data-region="91"] [data-col="yes"]').inner_text() == "0"
        assert console_errors == []
    finally:
        mail_app.config["PUBLIC_BASE_URL"] = "http://relais.test"


def test_check_in_from_a_phone(
    page, live_server, browser_login, make_user, make_contact, demo_campaign, regions, console_errors, artifacts
):
    from press.models import Rsvp

    milestone = conference(demo_campaign, regions, "93", days=0.01)
    people = [
        make_contact(first_name=first, last_name=last, region="93")
        for first, last in (("Léa", "Garnier"), ("Marc", "Aubry"))
    ]
    for person in people:
        db.session.add(Rsvp(milestone_id=milestone.id, contact_id=person.id, answer="yes"))
    db.session.commit()
    milestone_id = milestone.id
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(make_user("regional", region="93"), PASSWORD)
    page.goto(f"{live_server}/press/conferences/{milestone_id}/checkin")
    page.get_by_label("Chercher un nom").fill("LEA garn")  # accents and case aside: "Léa Garnier"
    assert page.locator("#checkin-list li:visible").count() == 1
    page.get_by_role("button", name="Arrivé·e").click()
    page.wait_for_url(f"**/press/conferences/{milestone_id}/checkin*")
    assert page.locator("#came").inner_text() == "1"
    page.screenshot(path=str(artifacts / "press-checkin-phone.png"), full_page=True)
    assert console_errors == []
