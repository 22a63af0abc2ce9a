"""In Chromium at a phone's width (375 px): a journalist who walks in is added at the check-in page
and marked present, and an answer given by phone is written down on the conference page; neither
page scrolls sideways."""

from sqlalchemy import select

from contacts.models import Contact
from extensions import db
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits
from tests.test_press import invited
from tests.test_press_helpers import conference


def test_walk_in_at_a_phone_sized_check_in(
    page, live_server, browser_login, make_user, make_contact, demo_campaign, regions, console_errors, artifacts
):
    milestone = conference(demo_campaign, regions, "93", days=0.01)
    guest = make_contact(first_name="Léa", last_name="Garnier", region="93", outlet="La Provence")
    invited(milestone, [guest], ["yes"])
    milestone_id, guest_id = milestone.id, guest.id
    page.set_viewport_size({"width": 375, "height": 812})
    browser_login(make_user("regional", region="93"), PASSWORD)

    page.goto(f"{live_server}/press/conferences/{milestone_id}/checkin")
    assert_fits(page)
    form = page.locator("#walk-in")
    form.get_by_label("Prénom").fill("Paul")
    form.locator("#last_name").fill("Nouveau")  # labelled "Nom *"
    form.get_by_label("Média").fill("France Bleu Provence")
    form.get_by_role("button", name="Ajouter et marquer présent·e").click()
    page.get_by_text("Paul Nouveau ajouté·e et marqué·e présent·e.").wait_for()
    assert page.locator("#came").inner_text() == "1"
    row = page.locator("#checkin-list li.present")
    assert row.count() == 1 and "Paul Nouveau" in row.inner_text()
    assert_fits(page)
    page.screenshot(path=str(artifacts / "press-walk-in-375.png"), full_page=True)

    db.session.remove()
    paul = db.session.scalar(select(Contact).where(Contact.last_name == "Nouveau"))
    assert paul.source.startswith("sur place, conférence du ") and paul.legal_basis == "legitimate_interest"
    paul_id = paul.id

    page.goto(f"{live_server}/press/conferences/{milestone_id}")
    page.get_by_text("Noter une réponse reçue par téléphone ou par e-mail").click()
    page.get_by_label("Contact").select_option(label="Léa Garnier — La Provence")
    page.get_by_label("Non").check()
    page.get_by_label("Reçue par").select_option("phone")
    page.get_by_role("button", name="Enregistrer la réponse").click()
    page.get_by_text("Réponse enregistrée.").wait_for()
    guest_row = page.locator(f'#attendance tr[data-contact="{guest_id}"]')
    assert guest_row.locator(".answer").inner_text() == "Non"
    assert "téléphone" in guest_row.locator(".channel").inner_text()
    assert page.locator('[data-count="no"]').inner_text() == "1"
    assert_fits(page)
    page.screenshot(path=str(artifacts / "press-answer-by-phone-375.png"), full_page=True)

    page.goto(f"{live_server}/contacts/{paul_id}")  # the walk-in's history: present, answered on the spot
    history = page.locator("#history")
    history.get_by_label("Note (ex. : a quitté la rédaction, écrire à …)").fill("Pigiste, préfère le téléphone")
    history.get_by_role("button", name="Ajouter la note").click()
    page.get_by_text("Note ajoutée.").wait_for()
    kinds = page.locator("#history li[data-kind]").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds[0] == "note" and "attendance" in kinds and "answer" in kinds
    assert_fits(page)
    page.screenshot(path=str(artifacts / "contact-history-375.png"), full_page=True)

    page.goto(f"{live_server}/regions/93/readiness")
    assert page.locator("#step-conference_held .evidence").inner_text().startswith("Constaté — Journalistes venus : 1")
    assert_fits(page)

    page.goto(f"{live_server}/press/conferences/{milestone_id}/sign-in-sheet")
    assert page.locator("#sign-in tr[data-contact]").count() == 1  # Paul came; Léa declined
    assert_fits(page)
    assert console_errors == []
