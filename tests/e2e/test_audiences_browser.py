"""In Chromium: a national lead configures the federation's sender identity once, sends a release to
a chosen audience (regional dailies of two regions, plus a journalist picked by name) after reading
who will receive it and who is left out, confirms "Envoyer maintenant" with the count, and only those
people get it, through a real loopback SMTP server. Every page visited is checked at 375 pixels."""

from extensions import db
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits
from tests.test_embargo import release
from tests.test_press_helpers import deliver

PHONE = {"width": 375, "height": 800}


def at_phone_width(page, url: str) -> None:
    """The page at 375 px has no horizontal scroll; back to the desktop size after."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert_fits(page)
    page.set_viewport_size(size)


def test_a_release_goes_to_a_chosen_audience_after_seeing_its_recipients(
    page,
    live_server,
    browser_login,
    make_user,
    make_contact,
    mail_app,
    smtp_server,
    demo_campaign,
    console_errors,
    artifacts,
):
    lead = make_user("national")
    make_contact(email="ouest@example.org", region="53", media_type="regional_daily", last_name="Ouest")
    make_contact(email="ocean@example.org", region="52", media_type="regional_daily", last_name="Océan")
    make_contact(email="provence@example.org", region="93", media_type="regional_daily", last_name="Provence")
    make_contact(email="parti@example.org", region="53", media_type="regional_daily", last_name="Parti", opted_out=True)
    make_contact(email="bihan@example.org", first_name="Yann", last_name="Le Bihan", outlet="Alternatives Économiques")
    item = release(lead, demo_campaign, title="Le Mois de l'ESS 2008 est lancé")
    release_id = item.id
    page.set_default_timeout(10_000)
    browser_login(lead, PASSWORD)

    # The federation's sender, configured once.
    page.goto(f"{live_server}/mailings/senders")
    page.get_by_label("Nom affiché").fill("ESS France")
    page.get_by_label("Adresse d'expédition").fill("presse@example.org")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.get_by_text("Identité enregistrée").wait_for()
    at_phone_width(page, f"{live_server}/mailings/senders")

    # The release's mailing: the default (national media) is shown ticked; choose two regions' dailies.
    page.goto(f"{live_server}/press/releases/{release_id}")
    form = page.locator("#release-mail-form")
    assert form.get_by_label("Expéditeur").input_value() != ""  # the identity, nothing to retype
    assert "ESS France <presse@example.org>" in form.get_by_label("Expéditeur").inner_text()
    form.locator("details[data-name=f_region] > summary").click()
    assert form.get_by_role("checkbox", name="National", exact=True).is_checked()
    form.get_by_role("checkbox", name="National", exact=True).uncheck()
    form.get_by_role("checkbox", name="Bretagne").check()
    form.get_by_role("checkbox", name="Pays de Loire").check()
    form.locator("details[data-name=f_media_type] > summary").click()
    form.get_by_role("checkbox", name="Quotidien régional (PQR)").check()
    form.get_by_label("Ajouter un contact par son nom").fill("bih")
    form.get_by_role("option", name="Yann Le Bihan").click()
    assert form.locator("#contacts-chosen").get_by_role("checkbox", name="Yann Le Bihan").is_checked()
    page.set_viewport_size(PHONE)
    assert_fits(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    form.get_by_role("button", name="Préparer l'envoi et voir les destinataires").click()

    # Before anything leaves: who receives it, who is left out and why.
    page.get_by_text("Envoi préparé").wait_for()
    summary = page.locator("#audience-summary").inner_text()
    assert summary.startswith("Média · Quotidien régional (PQR) · Bretagne, Pays de Loire")
    assert "1 contact choisi" in summary
    assert page.locator("#receiving-count").inner_text() == "3 destinataires"
    recipients = page.locator("#recipient-list")
    for address in ("ouest@example.org", "ocean@example.org", "bihan@example.org"):
        assert recipients.locator("tr", has_text=address).get_by_text("oui").count() == 1
    assert "non : désinscrit" in recipients.locator("tr", has_text="parti@example.org").inner_text()
    assert "provence@example.org" not in recipients.inner_text()
    page.screenshot(path=str(artifacts / "release-recipients.png"), full_page=True)
    mailing_url = page.url.split("#")[0]
    at_phone_width(page, mailing_url)

    # "Envoyer maintenant" asks first, with the count.
    page.goto(mailing_url)
    page.get_by_role("button", name="Envoyer maintenant").click()
    assert "partira tout de suite à 3 destinataires" in page.locator("#send-now-count").inner_text()
    at_phone_width(page, page.url)
    page.get_by_role("button", name="Confirmer l'envoi à 3 destinataires").click()
    page.locator("#mailing-status", has_text="Envoi en cours").wait_for()

    db.session.remove()
    deliver(mail_app, 0)
    assert set(smtp_server.by_recipient()) == {"ouest@example.org", "ocean@example.org", "bihan@example.org"}
    for message in smtp_server.messages:
        assert message.parsed()["From"] == "ESS France <presse@example.org>"
    assert console_errors == []


def test_a_draft_is_edited_in_the_browser_with_a_contact_picked_by_name(
    page, live_server, browser_login, make_user, make_contact, demo_campaign, api, console_errors
):
    from tests.test_audiences import new_mailing

    lead = make_user("national")
    first = make_contact(email="premier@example.org", last_name="Premier", region="93")
    make_contact(email="marie.curie@example.org", first_name="Marie", last_name="Curie", region="11")
    made = new_mailing(api(lead), {"contact_ids": [first.id]}).json
    page.set_default_timeout(10_000)
    browser_login(lead, PASSWORD)
    page.goto(f"{live_server}/mailings/{made['id']}")
    assert page.locator("#receiving-count").inner_text() == "1 destinataire"
    page.get_by_role("button", name="Modifier l'envoi").click()
    page.get_by_label("Nom de l'envoi").fill("Lancement corrigé")
    page.get_by_label("Ajouter un contact par son nom").fill("curie")
    page.get_by_role("option", name="Marie Curie").click()
    page.set_viewport_size(PHONE)
    assert_fits(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Nom de l'envoi").press("Enter")  # saves (the search's button is not the default)
    page.get_by_text("Envoi enregistré").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Lancement corrigé"
    assert page.locator("#receiving-count").inner_text() == "2 destinataires"
    assert "marie.curie@example.org" in page.locator("#recipient-list").inner_text()
    at_phone_width(page, f"{live_server}/mailings")
    at_phone_width(page, f"{live_server}/contacts?region=11&region=93")
    page.set_viewport_size(PHONE)
    page.locator("details[data-name=region] > summary").click()  # the open drop-down fits too
    assert_fits(page)
    assert page.get_by_role("checkbox", name="Ile de France").is_checked()
    at_phone_width(page, f"{live_server}/contacts/lists")
    assert console_errors == []
