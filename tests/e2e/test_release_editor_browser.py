"""In Chromium, on a desktop and at 375 px: a press release typed as plain text opens in the visual
editor with its paragraphs and its list; the communication officer adds a heading, a numbered list and
a link without typing HTML, saves, and the newsroom page shows them."""

import pytest

from extensions import db
from press import newsroom
from press.models import PressRelease
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits

TYPED = "Le Mois de l'ESS ouvre le 1er novembre.\n\nAu programme :\n\n- des forums ;\n- des portes ouvertes."


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_a_release_written_without_html_reaches_the_newsroom(
    width, page, live_server, browser_login, make_user, demo_campaign, console_errors, artifacts
):
    lead = make_user("national")
    release, _ = newsroom.save_release(lead, None, {"title": "Lancement", "body": TYPED, "ready": True}, demo_campaign)
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(10_000)
    browser_login(lead, PASSWORD)

    page.goto(f"{live_server}/press/releases/{release.id}")
    area = page.get_by_role("textbox", name="Texte du communiqué")
    area.locator("li").first.wait_for()  # the typed text opened as paragraphs and a list
    assert area.locator("p").first.inner_text() == "Le Mois de l'ESS ouvre le 1er novembre."
    assert area.locator("li").all_inner_texts() == ["des forums ;", "des portes ouvertes."]
    assert page.get_by_text("Insérer un champ").count() == 0  # a release has no fields to insert

    area.locator("p").first.click()
    page.keyboard.press("Control+Home")  # the start of the text; then to the end of its first paragraph
    for _ in "Le Mois de l'ESS ouvre le 1er novembre.":
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.keyboard.type("Les temps forts")
    page.get_by_role("button", name="Titre", exact=True).click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Liste numérotée").click()
    page.keyboard.type("le forum régional")
    page.keyboard.press("Enter")
    page.keyboard.type("la conférence de presse ")
    page.get_by_role("button", name="Lien", exact=True).click()
    page.get_by_label("Adresse", exact=True).fill("https://example.org/programme")
    page.get_by_label("Texte", exact=True).fill("tout le programme")
    page.get_by_role("button", name="Insérer").click()
    assert_fits(page)
    page.screenshot(path=str(artifacts / f"release-editor-{width}.png"), full_page=True)
    page.get_by_role("button", name="Enregistrer").last.click()
    page.get_by_text("Communiqué enregistré").wait_for()

    db.session.expire_all()
    body = db.session.get(PressRelease, release.id).body
    assert "<h2>Les temps forts</h2>" in body and "<ol><li>le forum régional</li>" in body
    assert '<a href="https://example.org/programme">tout le programme</a>' in body
    assert "<ul><li>des forums ;</li><li>des portes ouvertes.</li></ul>" in body

    page.goto(f"{live_server}/newsroom/{release.id}")
    assert page.get_by_role("heading", name="Les temps forts").is_visible()
    assert page.get_by_role("link", name="tout le programme").get_attribute("href") == "https://example.org/programme"
    assert page.locator("main ol li").all_inner_texts()[0] == "le forum régional"
    assert_fits(page)
    assert console_errors == []
