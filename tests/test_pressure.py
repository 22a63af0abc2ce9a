"""Contact pressure: who in a mailing's audience gets another mailing of the campaign around the
same time (shown, excluded in one click), and the hard limit per contact and week."""

from datetime import timedelta

from sqlalchemy import select

from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.audience import audience_size
from mailings.models import Delivery, Mailing
from press import pressure
from tests.conftest import csrf_from


def test_overlaps_are_shown_and_excluded_in_one_click(app, client, login, make_user, make_contact, make_mailing):
    user = make_user("national")
    shared = make_contact(email="double@example.org", first_name="Paul", last_name="Double", region="93")
    only_ours = make_contact(email="ours@example.org", region="93")
    far = make_contact(email="far@example.org", region="93")
    national = make_mailing([shared, far], name="Invitation nationale", user=user)
    services.transition(user, national, "schedule", send_at=utcnow() + timedelta(days=2), allow_weekend=True)
    later = make_mailing([far], name="Bilan", user=user)
    services.transition(user, later, "schedule", send_at=utcnow() + timedelta(days=30), allow_weekend=True)
    regional = make_mailing([shared, only_ours], name="Invitation régionale", user=user)
    regional.scheduled_at = utcnow() + timedelta(days=3)
    db.session.commit()

    found = pressure.overlaps(regional)
    assert [(o.email, o.other_name) for o in found] == [("double@example.org", "Invitation nationale")]
    assert pressure.overlaps(regional, days=0) == []

    login(user)
    page = client.get(f"/press/mailings/{regional.id}/pressure").get_data(as_text=True)
    assert "Paul Double" in page and "Invitation nationale" in page and "ours@example.org" not in page
    client.post(
        f"/press/mailings/{regional.id}/pressure", data={"csrf_token": csrf_from(page), "contact_ids": str(shared.id)}
    )
    db.session.expire_all()
    regional = db.session.get(Mailing, regional.id)
    assert regional.audience["exclude_contact_ids"] == [shared.id]
    assert audience_size(regional.audience)["total"] == 1
    assert "Aucun contact sollicité deux fois" in client.get(f"/press/mailings/{regional.id}/pressure").get_data(
        as_text=True
    )
    services.transition(user, regional, "send_now")
    db.session.commit()
    emails = set(db.session.scalars(select(Delivery.email).where(Delivery.mailing_id == regional.id)))
    assert emails == {"ours@example.org"}


def test_hard_limit_per_contact_and_week(app, make_user, make_contact, make_mailing, demo_campaign):
    user = make_user("national")
    busy = make_contact(email="busy@example.org", region="93")
    calm = make_contact(email="calm@example.org", region="93")
    pressure.save_settings(user, demo_campaign, 3, 1)
    first = make_mailing([busy], name="Premier", user=user)
    services.transition(user, first, "send_now", now=utcnow() - timedelta(days=2))
    db.session.execute(
        Delivery.__table__.update()
        .where(Delivery.mailing_id == first.id)
        .values(status="sent", sent_at=utcnow() - timedelta(days=2))
    )
    old = make_mailing([calm], name="Ancien", user=user)
    services.transition(user, old, "send_now", now=utcnow() - timedelta(days=9))
    db.session.execute(
        Delivery.__table__.update()
        .where(Delivery.mailing_id == old.id)
        .values(status="sent", sent_at=utcnow() - timedelta(days=9))
    )
    db.session.commit()

    second = make_mailing([busy, calm], name="Second", user=user)
    services.transition(user, second, "send_now")
    db.session.commit()
    rows = {d.email: d for d in db.session.scalars(select(Delivery).where(Delivery.mailing_id == second.id))}
    assert rows["busy@example.org"].status == "skipped" and "limite hebdomadaire" in rows["busy@example.org"].last_error
    assert rows["calm@example.org"].status == "pending"

    try:
        pressure.save_settings(user, demo_campaign, -1, "x")
        raise AssertionError("bad settings accepted")
    except services.ValidationFailed as error:
        assert set(error.fields) == {"pressure_days", "weekly_limit"}


def test_the_mailing_page_partial_warns(app, make_user, make_contact, make_mailing):
    from flask import render_template_string

    user = make_user("national")
    shared = make_contact(region="93")
    first = make_mailing([shared], name="Premier", user=user)
    services.transition(user, first, "schedule", send_at=utcnow() + timedelta(days=1), allow_weekend=True)
    second = make_mailing([shared], name="Second", user=user)
    db.session.commit()
    with app.test_request_context("/"):
        html = render_template_string('{% include "press/_pressure_summary.html" %}', mailing=second)
    assert 'id="pressure-warning"' in html and f"/press/mailings/{second.id}/pressure" in html


def test_the_mailing_page_shows_the_warning(app, client, login, make_user, make_contact, make_mailing):
    user = make_user("national")
    shared = make_contact(region="93")
    first = make_mailing([shared], name="Premier", user=user)
    services.transition(user, first, "schedule", send_at=utcnow() + timedelta(days=1), allow_weekend=True)
    second = make_mailing([shared], name="Second", user=user)
    db.session.commit()
    login(user)
    page = client.get(f"/mailings/{second.id}").get_data(as_text=True)
    assert 'id="pressure-warning"' in page and f"/press/mailings/{second.id}/pressure" in page


def test_editing_the_audience_keeps_the_exclusions_unless_told(app, api, make_user, make_contact, make_mailing):
    user = make_user("national")
    kept, left_out, added = (make_contact(email=f"{n}@example.org", region="93") for n in ("kept", "out", "added"))
    mailing = make_mailing([kept, left_out], user=user)
    pressure.exclude(user, mailing, [left_out.id])
    db.session.commit()
    client = api(user)

    edited = client.patch(
        f"/api/v1/mailings/{mailing.id}", json={"audience": {"contact_ids": [kept.id, left_out.id, added.id]}}
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["audience"]["exclude_contact_ids"] == [left_out.id]
    assert edited.get_json()["audience_size"] == 2  # kept and added; the excluded one stays out

    cleared = client.patch(
        f"/api/v1/mailings/{mailing.id}",
        json={"audience": {"contact_ids": [kept.id, left_out.id], "exclude_contact_ids": []}},
    )
    assert cleared.status_code == 200 and cleared.get_json()["audience_size"] == 2
    assert not cleared.get_json()["audience"].get("exclude_contact_ids")
    bad = client.patch(f"/api/v1/mailings/{mailing.id}", json={"audience": {"exclude_contact_ids": ["x"]}})
    assert bad.status_code == 422 and "audience" in str(bad.get_json()["error"]["fields"])
