"""The large demo generator: proportionate, valid data that the pages and API can serve."""

from sqlalchemy import func, select

from campaign.models import Event
from contacts.models import Contact
from extensions import db
from mailings.models import Delivery, Mailing
from operations import scale


def test_scale_adds_contacts_events_mailings_and_deliveries(demo_campaign, api, make_user):
    before = db.session.scalar(select(func.count(Contact.id)))
    report = scale.generate(demo_campaign, 1500)
    db.session.commit()
    assert report.contacts == 1500 and report.events == 30 and report.mailings == 3 and report.deliveries == 1500
    assert db.session.scalar(select(func.count(Contact.id))) == before + 1500
    assert db.session.scalar(select(func.count(Event.id)).where(Event.title.like("Rencontre de l'ESS%"))) == 30
    assert db.session.scalar(select(func.count(Mailing.id)).where(Mailing.name.like("Lettre n°%"))) == 3
    mismatched = db.session.scalar(
        select(func.count(Delivery.id))
        .join(Contact, Contact.id == Delivery.contact_id)
        .where(Contact.email != Delivery.email)
    )
    assert mismatched == 0
    found = api(make_user("national")).get("/api/v1/contacts?q=scale-0000042").get_json()
    assert found["total"] == 1 and found["items"][0]["email"].endswith("@example.org")
    again = scale.generate(demo_campaign, 10)  # a second run adds, it does not collide
    db.session.commit()
    assert again.contacts == 10


def test_demo_load_scale_from_the_command_line(runner):
    result = runner.invoke(args=["demo", "load", "--scale", "600"])
    assert result.exit_code == 0, result.output
    assert "added 600 contacts, 20 events, 2 mailings with 1000 deliveries" in result.output
    assert db.session.scalar(select(func.count(Contact.id)).where(Contact.email.like("scale-%"))) == 600
    refused = runner.invoke(args=["demo", "load", "--scale", "0"])
    assert refused.exit_code != 0 and "--scale" in refused.output
