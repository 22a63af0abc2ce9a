"""In Chromium on a 375-pixel phone: a journalist stops one chamber's mailings on the preference page
of a regional message, and a reader opens an event of the programme and adds it to their calendar.
Neither page scrolls sideways."""

from pathlib import Path

from sqlalchemy import select

from campaign.models import Event
from contacts.preferences import SubscriptionChoice
from demo import events as event_demo
from extensions import db
from mailings.tokens import unsubscribe_token
from tests.e2e.screens import assert_fits
from tests.readers import by_icalendar

WIDTH = 375


def test_stopping_one_chambers_mailings_on_a_phone(
    page, live_server, make_user, make_contact, make_mailing, demo_campaign, regions, console_errors, artifacts
):
    journalist = make_contact(email="lea@la-provence.example", region="93", first_name="Léa")
    mailing = make_mailing([journalist], user=make_user("regional", region="93"))
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(f"{live_server}/preferences/{unsubscribe_token(journalist.id, mailing.id)}")
    assert_fits(page)
    chamber = regions["93"].chamber or regions["93"].name
    regional = page.get_by_label(f"Les envois régionaux : {chamber}")
    national = page.get_by_label("Les communiqués et envois nationaux")
    assert regional.is_checked() and national.is_checked()
    regional.uncheck()
    page.get_by_role("button", name="Enregistrer mes choix").click()
    page.get_by_text("Vos choix sont enregistrés.").wait_for()
    assert not page.get_by_label(f"Les envois régionaux : {chamber}").is_checked()
    assert page.get_by_label("Les communiqués et envois nationaux").is_checked()
    assert page.get_by_text("(arrêté le").count() == 1
    assert_fits(page)
    page.screenshot(path=str(artifacts / "preferences-375.png"), full_page=True)
    db.session.expire_all()
    rows = db.session.execute(select(SubscriptionChoice.stream, SubscriptionChoice.receives)).all()
    assert rows == [("93", False)]
    assert console_errors == []


def test_an_event_page_on_a_phone_adds_the_event_to_a_calendar(
    page, live_server, demo_campaign, console_errors, artifacts
):
    event_demo.load(demo_campaign)
    db.session.commit()
    event = db.session.scalars(select(Event).where(Event.status == "approved").order_by(Event.id)).first()
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(f"{live_server}/programme?region={event.region.code}")
    page.get_by_role("link", name=event.title).first.click()
    page.get_by_role("heading", name=event.title).wait_for()
    assert_fits(page)
    assert page.title().endswith(demo_campaign.name)
    page.screenshot(path=str(artifacts / "event-page-375.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Ajouter à mon agenda").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert by_icalendar(text)[f"event-{event.id}@relais.test"][0] == event.starts_at
    subscribe = page.get_by_role("link", name="S'abonner au programme de la région (webcal)")
    assert subscribe.get_attribute("href").startswith("webcal://")
    assert console_errors == []
