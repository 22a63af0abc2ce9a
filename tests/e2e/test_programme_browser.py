"""In Chromium: propose an event on the public form, approve it as the region's coordinator, see it
in the programme."""

from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits


def test_propose_approve_and_see_it_in_the_programme(
    page, live_server, browser_login, make_user, demo_campaign, console_errors, inbox
):
    coordinator = make_user("regional", region="93")
    page.goto(f"{live_server}/events/propose")
    page.get_by_label("Titre de l'événement").fill("Atelier vélo solidaire")
    page.get_by_label("Région").select_option("93")
    page.get_by_label("Type").select_option("Session d'information")
    page.get_by_label("Développement durable").check()
    page.get_by_label("Début").fill("2008-11-19T14:00")
    page.get_by_label("Ville").fill("Marseille")
    page.get_by_label("Lieu").fill("Atelier du Panier")
    page.get_by_label("Organisateur").fill("Collectif Vélo Marseille")
    page.get_by_label("Votre adresse e-mail").fill("velo@example.org")
    page.get_by_role("button", name="Proposer l'événement").click()
    page.get_by_text("Merci, votre proposition est reçue").wait_for()

    page.goto(f"{live_server}/programme")
    assert page.get_by_text("Atelier vélo solidaire").count() == 0  # not before approval

    browser_login(coordinator, PASSWORD)
    page.goto(f"{live_server}/events?status=proposed")
    page.get_by_role("link", name="Atelier vélo solidaire").click()
    page.get_by_role("button", name="Approuver").click()
    page.get_by_text("Événement approuvé").wait_for()

    page.goto(f"{live_server}/programme?region=93")
    event = page.locator(".programme-event", has_text="Atelier vélo solidaire")
    assert event.count() == 1
    assert "mercredi 19 novembre 2008" in page.content()
    assert console_errors == []


def test_the_programme_filters_fit_a_390_pixel_phone(page, live_server, demo_campaign, console_errors):
    """On a phone 390 pixels wide, the filter form stacks its fields and none runs off the screen,
    whatever the length of the themes' names."""
    from demo import events as event_demo
    from extensions import db

    event_demo.load(demo_campaign)
    db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/programme")
    assert_fits(page, 390)
    for field in ("#p-region", "#p-theme", "#p-type", "#p-from", "#p-to"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, field
    theme = page.locator("#p-theme").bounding_box()
    region = page.locator("#p-region").bounding_box()
    assert theme["y"] > region["y"]  # stacked, one under the other
    page.locator("#p-theme").select_option(index=1)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**theme=**")
    assert console_errors == []
