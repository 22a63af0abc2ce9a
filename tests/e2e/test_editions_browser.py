"""In Chromium: the national team makes the 2027 edition from 2008 on the campaign page, works on it,
switches back with the chooser; the public still reads 2008 at its own address; phone-sized pages."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaign.editions import new_edition
from campaign.models import Campaign, Event, Milestone
from dbtypes import utcnow
from extensions import db
from press.models import PressRelease
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits

PARIS = ZoneInfo("Europe/Paris")


def test_a_2027_edition_from_2008_in_the_browser(
    page, live_server, browser_login, make_user, regions, demo_campaign, console_errors, artifacts
):
    national = make_user("national")
    db.session.add_all(
        [
            PressRelease(campaign_id=demo_campaign.id, title="Le Mois de l'ESS 2008 est lancé", ready=True),
            Event(
                campaign_id=demo_campaign.id,
                region_id=regions["11"].id,
                title="Forum de l'ESS à Paris",
                starts_at=datetime(2008, 11, 12, 9, tzinfo=ZoneInfo("UTC")),
                status="approved",
            ),
        ]
    )
    db.session.commit()
    browser_login(national, PASSWORD)
    page.goto(f"{live_server}/campaigns/{demo_campaign.id}")
    form = page.locator("#new-edition")
    assert form.get_by_label("Premier jour de son mois d'événements").input_value() == "2009-11-01"
    form.get_by_label("Nom de la nouvelle édition").fill("Mois de l'ESS 2027")
    form.get_by_label("Premier jour de son mois d'événements").fill("2027-11-01")
    form.get_by_role("button", name="Créer la nouvelle édition").click()
    page.get_by_text("Nouvelle édition créée").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Mois de l'ESS 2027"

    new = db.session.scalar(select(Campaign).where(Campaign.name == "Mois de l'ESS 2027"))
    conference = db.session.scalar(
        select(Milestone).where(Milestone.campaign_id == new.id, Milestone.kind == "national_press_conference")
    )
    assert conference.starts_at.astimezone(PARIS).strftime("%A %d %m %Y %H:%M") == "Tuesday 07 09 2027 10:00"
    row = page.locator(f"#m{conference.id}")
    assert "Conférence de presse nationale" in row.inner_text() and "2027" in row.inner_text()

    page.screenshot(path=str(artifacts / "new-edition-made.png"))
    # the chooser says 2027 everywhere; going back to 2008 is one choice, kept
    switcher = page.get_by_label("Édition de travail")
    assert switcher.input_value() == str(new.id)
    page.goto(f"{live_server}/events")
    assert page.get_by_label("Édition de travail").input_value() == str(new.id)
    assert page.get_by_text("Forum de l'ESS à Paris").count() == 0
    page.get_by_label("Édition de travail").select_option(str(demo_campaign.id))
    page.get_by_role("button", name="Changer").click()
    page.get_by_text("Vous travaillez sur « Mois de l'ESS 2008 »").wait_for()
    assert page.url.endswith("/events")
    assert page.get_by_text("Forum de l'ESS à Paris").count() == 1

    # the public: 2008 is still there, each page at 375 pixels without sideways scrolling
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url("**/login**")
    page.set_viewport_size({"width": 375, "height": 800})

    # an edition running today: the newsroom shows it, and links 2008 at its own address
    today = utcnow().astimezone(PARIS).date()
    running, _copied = new_edition(national, demo_campaign, f"Mois de l'ESS {today.year}", today.replace(day=1))
    db.session.add(PressRelease(campaign_id=running.id, title="L'édition en cours est lancée", ready=True))
    db.session.commit()
    page.goto(f"{live_server}/newsroom")
    assert page.get_by_text("L'édition en cours est lancée").count() == 1
    assert page.get_by_text("Le Mois de l'ESS 2008 est lancé").count() == 0
    page.get_by_role("navigation", name="Autres éditions").get_by_role("link", name="Mois de l'ESS 2008").click()
    page.wait_for_url("**/newsroom?edition=2008")
    page.get_by_text("Archive : vous consultez l'édition « Mois de l'ESS 2008 »").wait_for()
    for path, text in (
        ("/newsroom?edition=2008", "Le Mois de l'ESS 2008 est lancé"),
        ("/programme?edition=2008", "Forum de l'ESS à Paris"),
    ):
        page.goto(f"{live_server}{path}")
        assert page.get_by_text(text).count() == 1, path
        assert_fits(page, 375)
        page.screenshot(path=str(artifacts / f"archive-{path[1:9]}-375.png"), full_page=True)
    browser_login(national, PASSWORD)
    page.goto(f"{live_server}/campaigns/{demo_campaign.id}/new-edition")
    assert_fits(page, 375)
    page.screenshot(path=str(artifacts / "new-edition-375.png"), full_page=True)
    page.goto(f"{live_server}/campaigns")
    assert_fits(page, 375)
    page.goto(f"{live_server}/campaigns/{demo_campaign.id}")
    assert_fits(page, 375)
    page.get_by_role("button", name="Menu").click()  # on a phone the chooser sits in the folded menu
    for part in (page.locator(".edition-switcher"), page.locator("#new-edition form")):
        box = part.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert console_errors == []
