"""Embargo enforcement: the newsroom, the mailing's subject and body, scheduling, and regional
releases tied to the national embargo (moving it moves the check)."""

from datetime import timedelta

from campaign.services import zone
from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.models import Mailing
from mailings.scheduler import dispatch_due
from press import newsroom
from press.models import PressRelease


def release(user, campaign, **data):
    data = {
        "title": "Le Mois de l'ESS 2008 est lancé",
        "lead": "Novembre 2008 : plus de mille événements.",
        "body": "Premier paragraphe.\n\nSecond paragraphe.",
        "ready": True,
        **data,
    }
    item, _ = newsroom.save_release(user, None, data, campaign)
    db.session.commit()
    return item


def test_newsroom_shows_nothing_under_embargo(app, client, make_user, demo_campaign):
    user = make_user("national")
    later = release(user, demo_campaign, title="Sous embargo", embargo_until=utcnow() + timedelta(hours=2))
    draft = release(user, demo_campaign, title="Brouillon", ready=False)
    free = release(user, demo_campaign, title="Diffusion immédiate")
    page = client.get("/newsroom").get_data(as_text=True)
    assert "Diffusion immédiate" in page and "Sous embargo" not in page and "Brouillon" not in page
    assert client.get(f"/newsroom/{later.id}").status_code == 404
    assert client.get(f"/newsroom/{draft.id}").status_code == 404
    assert client.get(f"/newsroom/{free.id}").status_code == 200
    assert "Sous embargo" not in client.get("/newsroom/feed.atom").get_data(as_text=True)

    later.embargo_until = utcnow() - timedelta(minutes=1)  # the embargo lifts
    db.session.commit()
    result = dispatch_due(utcnow())
    assert db.session.get(PressRelease, later.id).published_at is not None
    assert result is not None
    assert client.get(f"/newsroom/{later.id}").status_code == 200
    assert "Sous embargo" in client.get("/newsroom/feed.atom").get_data(as_text=True)


def test_the_mailing_states_the_embargo_and_waits_for_it(app, make_user, make_contact, make_mailing, demo_campaign):
    user = make_user("national")
    embargo = utcnow() + timedelta(days=2)
    item = release(user, demo_campaign, embargo_until=embargo)
    journalist = make_contact(email="journaliste@example.org", kind="media", region="93")
    partner = make_contact(email="partenaire@example.org", kind="partner", region="93")
    mailing = newsroom.mail_release(
        user,
        item,
        {
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "audience": {"contact_ids": [journalist.id, partner.id]},
        },
    )
    db.session.commit()
    preview = services.preview(user, mailing, journalist.id)
    local = embargo.astimezone(zone(demo_campaign.timezone))
    assert preview["subject"].startswith(f"[EMBARGO jusqu'au {local:%d/%m/%Y %H:%M}]")
    assert preview["subject"].endswith("Communiqué de presse : Le Mois de l'ESS 2008 est lancé")
    assert (
        "INFORMATIONS SOUS EMBARGO JUSQU&#39;AU" in preview["html"]
        or "INFORMATIONS SOUS EMBARGO JUSQU'AU" in preview["html"]
    )
    assert (
        preview["text"].splitlines()[0].startswith("INFORMATIONS SOUS EMBARGO JUSQU'AU")
        or "INFORMATIONS SOUS EMBARGO JUSQU'AU" in preview["text"]
    )

    # a partner (not bound by a press embargo) is in the audience: nothing goes before the embargo
    for action, kw in (
        ("schedule", {"send_at": utcnow() + timedelta(hours=1), "allow_weekend": True}),
        ("send_now", {}),
    ):
        try:
            services.transition(user, mailing, action, **kw)
            raise AssertionError(f"{action} before the embargo was accepted")
        except services.ValidationFailed as error:
            assert "send_at" in error.fields
        db.session.rollback()
    mailing = db.session.get(Mailing, mailing.id)
    assert mailing.status == "draft" and mailing.frozen_at is None
    services.transition(user, mailing, "schedule", send_at=embargo + timedelta(minutes=5), allow_weekend=True)
    db.session.commit()
    assert mailing.status == "scheduled"


def test_journalists_may_get_it_under_embargo(app, make_user, make_contact, demo_campaign):
    user = make_user("national")
    item = release(user, demo_campaign, embargo_until=utcnow() + timedelta(days=2))
    journalist = make_contact(kind="media", region="93")
    mailing = newsroom.mail_release(
        user,
        item,
        {"from_name": "ESS France", "from_email": "presse@example.org", "audience": {"contact_ids": [journalist.id]}},
    )
    services.transition(user, mailing, "schedule", send_at=utcnow() + timedelta(hours=1), allow_weekend=True)
    db.session.commit()
    assert mailing.status == "scheduled"


def test_regional_release_tied_to_the_national_embargo(app, client, make_user, make_contact, demo_campaign, regions):
    national_user, regional_user = make_user("national"), make_user("regional", region="93")
    lift = utcnow() + timedelta(hours=4)
    national = release(national_user, demo_campaign, title="Communiqué national", embargo_until=lift)
    regional = release(regional_user, demo_campaign, title="Communiqué PACA", follows_national_id=national.id)
    assert regional.region_id == regions["93"].id
    assert newsroom.effective_embargo(regional) == national.embargo_until
    assert "Communiqué PACA" not in client.get("/newsroom?region=93").get_data(as_text=True)

    journalist = make_contact(kind="media", region="93")
    mailing = newsroom.mail_release(
        national_user,
        regional,
        {"from_name": "CRESS PACA", "from_email": "presse@example.org", "audience": {"contact_ids": [journalist.id]}},
    )
    db.session.commit()
    try:  # even journalists: a tied release is not scheduled before the national embargo lifts
        services.transition(national_user, mailing, "schedule", send_at=lift - timedelta(hours=1), allow_weekend=True)
        raise AssertionError("scheduled before the national embargo")
    except services.ValidationFailed as error:
        assert "embargo national" in error.fields["send_at"]
    db.session.rollback()
    mailing = db.session.get(Mailing, mailing.id)
    services.transition(national_user, mailing, "schedule", send_at=lift + timedelta(hours=1), allow_weekend=True)
    db.session.commit()

    # the national embargo moves two hours later: the check moves with it
    national = db.session.get(PressRelease, national.id)
    _, held = newsroom.save_release(national_user, national, {"embargo_until": lift + timedelta(hours=2)})
    db.session.commit()
    assert [m.id for m in held] == [mailing.id]
    assert db.session.get(Mailing, mailing.id).embargo_until == lift + timedelta(hours=2)
    outcome = dispatch_due(lift + timedelta(hours=1, minutes=1))
    mailing = db.session.get(Mailing, mailing.id)
    assert mailing.id not in outcome["started"]
    assert mailing.status == "paused" and "embargo national" in mailing.status_reason
    assert mailing.frozen_at is None
    try:  # a person resuming it before the (moved) embargo is refused too
        services.transition(national_user, mailing, "resume", now=lift + timedelta(hours=1, minutes=2))
        raise AssertionError("resumed before the national embargo")
    except services.ValidationFailed as error:
        assert "embargo national" in error.fields["send_at"]
    db.session.rollback()
    mailing = db.session.get(Mailing, mailing.id)
    assert mailing.status == "paused" and mailing.frozen_at is None

    # and the newsroom keeps the regional release until the (new) national lift
    national.embargo_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Communiqué PACA" in client.get("/newsroom?region=93").get_data(as_text=True)
