"""Choosing what to stop: a message's preference page and its one-click unsubscribe act on the
stream the message belongs to (national, a region, partner news); "stop everything" is the old
global opt-out; bounces and erasure still suppress. Messages are sent to a real SMTP server on
loopback and read back with the standard `email` package."""

import re
from html import unescape
from urllib.parse import urlsplit

from markupsafe import escape
from sqlalchemy import event, select

from contacts.models import Contact, Suppression
from contacts.personal_data import personal_data
from contacts.preferences import STOPPED_REASON, SubscriptionChoice
from contacts.services import erase_contact
from contacts.suppression import suppress, suppression_reason
from dbtypes import utcnow
from extensions import db
from formatting import long_date
from mailings.models import Delivery
from mailings.streams import mailing_stream
from mailings.tokens import unsubscribe_token
from tests.conftest import csrf_from
from tests.test_delivery import send

PACA, BRETAGNE = "93", "53"
LINK = re.compile(r'https?://[^\s"<>]+')


def links_of(message) -> set[str]:
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    return set(LINK.findall(html + text))


def preference_path(message) -> str:
    [url] = {u for u in links_of(message) if "/preferences/" in u}
    assert url.startswith("http://relais.test/preferences/")
    return urlsplit(url).path


def delivery_of(mailing, contact) -> Delivery:
    return db.session.scalar(
        select(Delivery).where(Delivery.mailing_id == mailing.id, Delivery.contact_id == contact.id)
    )


def choices(contact) -> dict[str, bool]:
    rows = db.session.scalars(select(SubscriptionChoice).where(SubscriptionChoice.contact_id == contact.id))
    return {row.stream: row.receives for row in rows}


def national_release(user, campaign, journalist):
    from press import newsroom

    release, _held = newsroom.save_release(
        user, None, {"title": "Le Mois de l'ESS commence", "lead": "Un mois d'événements.", "ready": True}, campaign
    )
    mailing = newsroom.mail_release(
        user,
        release,
        {"from_name": "ESS France", "from_email": "presse@example.org", "audience": {"contact_ids": [journalist.id]}},
    )
    db.session.commit()
    return mailing


def test_a_journalist_who_stops_one_chambers_mailings_still_gets_national_releases(
    mail_app, smtp_server, client, make_user, make_contact, make_mailing, demo_campaign, regions
):
    paca, lead = make_user("regional", region=PACA), make_user("national")
    journalist = make_contact(email="lea@la-provence.example", region=PACA, first_name="Léa")
    regional = send(mail_app, make_mailing([journalist], user=paca, name="Invitation PACA"))
    assert regional.region_id == regions[PACA].id and mailing_stream(regional) == PACA
    [received] = smtp_server.by_recipient()[journalist.email]
    message = received.parsed()  # the standard `email` package, strict policy
    assert message["List-Unsubscribe"].startswith("<http://relais.test/unsubscribe/")

    path = preference_path(message)
    page = client.get(path)
    chamber = regions[PACA].chamber or regions[PACA].name
    assert page.status_code == 200
    assert f"Les envois régionaux : {chamber}" in page.text and "Les communiqués et envois nationaux" in page.text
    assert page.text.count("checked") == 3  # national, PACA, partners: everything is received until said
    assert f"· {escape(demo_campaign.name)}</title>" in page.text  # the campaign's name, not Relais's
    saved = client.post(
        path, data={"csrf_token": csrf_from(page.text), "stream": ["national", "partners"], "action": "save"}
    )
    assert saved.status_code == 302
    shown = client.get(path).text
    assert "Vos choix sont enregistrés." in shown
    assert f"(arrêté le {long_date(utcnow())})" in shown  # the choice, dated
    db.session.expire_all()
    assert choices(journalist) == {PACA: False}
    assert not db.session.get(Contact, journalist.id).opted_out

    smtp_server.clear()
    release = send(mail_app, national_release(lead, demo_campaign, journalist))
    assert mailing_stream(release) == "national"
    [got] = smtp_server.by_recipient()[journalist.email]
    assert "ESS commence" in got.parsed()["Subject"]

    smtp_server.clear()
    reminder = send(mail_app, make_mailing([journalist], user=paca, name="Relance PACA"))
    assert journalist.email not in smtp_server.by_recipient()
    skipped = delivery_of(reminder, journalist)
    assert (skipped.status, skipped.last_error) == ("skipped", STOPPED_REASON)


def test_one_click_stops_only_the_stream_of_the_message(
    mail_app, smtp_server, make_user, make_contact, make_mailing, demo_campaign, regions, app
):
    paca = make_user("regional", region=PACA)
    journalist = make_contact(email="marius@nice-matin.example", region=PACA)
    send(mail_app, make_mailing([journalist], user=paca))
    message = smtp_server.by_recipient()[journalist.email][0].parsed()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    anonymous = app.test_client()  # a mail provider: no cookie, no CSRF token
    for _ in range(2):
        answer = anonymous.post(
            one_click, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert answer.status_code == 200 and "désinscrite de ces envois" in answer.text
    db.session.expire_all()
    assert choices(journalist) == {PACA: False}
    person = db.session.get(Contact, journalist.id)
    assert not person.opted_out and suppression_reason(person.email) is None

    smtp_server.clear()
    national = send(mail_app, make_mailing([journalist], user=make_user("national")))
    assert delivery_of(national, journalist).status == "sent"
    assert len(smtp_server.by_recipient()[journalist.email]) == 1
    held = personal_data(None, db.session.get(Contact, journalist.id))["subscriptions"]
    assert [(c["stream"], c["receives"], c["channel"]) for c in held] == [(PACA, False, "one-click")]  # GDPR export


def test_a_relay_kits_message_belongs_to_partner_news(app, make_user, make_contact, make_mailing, demo_campaign):
    from press.models import RelayKit

    mailing = make_mailing([make_contact(kind="partner")])
    assert mailing_stream(mailing) == "national"
    db.session.add(RelayKit(campaign=demo_campaign, title="Kit de relais", mailing=mailing))
    db.session.commit()
    assert mailing_stream(mailing) == "partners"


def test_stop_everything_is_the_global_opt_out_and_can_be_undone_by_the_person(
    client, make_contact, make_mailing, demo_campaign
):
    person = make_contact(email="camille@example.org", region=BRETAGNE)
    mailing = make_mailing([person])
    path = f"/preferences/{unsubscribe_token(person.id, mailing.id)}"
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf_from(page.text), "action": "stop_all"})
    db.session.expire_all()
    assert db.session.get(Contact, person.id).opted_out
    assert suppression_reason(person.email) == "unsubscribed"
    shown = unescape(client.get(path).text)
    assert "C'est fait : vous ne recevrez plus rien" in shown
    assert f"Vous ne recevez plus rien de notre part depuis le {long_date(utcnow())}" in shown
    assert "checked" not in shown

    client.post(path, data={"csrf_token": csrf_from(shown), "stream": ["national"], "action": "save"})
    db.session.expire_all()
    assert not db.session.get(Contact, person.id).opted_out and suppression_reason(person.email) is None
    assert choices(person) == {"all": True, BRETAGNE: False, "partners": False}


def test_bounces_and_erasure_still_suppress(client, make_contact, make_mailing, demo_campaign):
    bounced = make_contact(email="ancien@example.org")
    mailing = make_mailing([bounced])
    path = f"/preferences/{unsubscribe_token(bounced.id, mailing.id)}"
    suppress(bounced.email, "bounced")
    suppress(bounced.email, "complaint")  # the address stays on the list as bounced
    db.session.commit()
    page = client.get(path)
    assert "Cette adresse ne peut plus recevoir nos envois" in page.text
    client.post(path, data={"csrf_token": csrf_from(page.text), "stream": ["national"], "action": "save"})
    db.session.expire_all()
    assert suppression_reason(bounced.email) == "bounced" and db.session.get(Contact, bounced.id).bounced

    erased = make_contact(email="efface@example.org")
    token = unsubscribe_token(erased.id, mailing.id)
    client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert choices(erased) == {"national": False}
    erase_contact(None, db.session.get(Contact, erased.id))
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(SubscriptionChoice)) == 0
    assert suppression_reason("efface@example.org") == "erased"
    assert client.get(f"/preferences/{token}").status_code == 404


def test_bad_links_and_forged_posts_change_nothing(client, make_contact, make_mailing, demo_campaign):
    person = make_contact()
    token = unsubscribe_token(person.id, make_mailing([person]).id)
    assert client.get(f"/preferences/{token[:-2]}xx").status_code == 404
    assert client.post(f"/preferences/{token}", data={"action": "stop_all"}).status_code == 400  # no CSRF token
    assert "message de test" in client.get(f"/preferences/{unsubscribe_token(0, 0)}").text
    db.session.expire_all()
    assert not db.session.get(Contact, person.id).opted_out
    assert db.session.scalar(select(db.func.count()).select_from(SubscriptionChoice)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(Suppression)) == 0


def test_the_contacts_history_shows_their_dated_choices(client, login, make_user, make_contact, make_mailing, regions):
    person = make_contact(region=PACA)
    mailing = make_mailing([person], user=make_user("regional", region=PACA))
    client.post(f"/unsubscribe/{unsubscribe_token(person.id, mailing.id)}", data={"List-Unsubscribe": "One-Click"})
    login(make_user("national"))
    page = unescape(client.get(f"/contacts/{person.id}").text)
    chamber = regions[PACA].chamber or regions[PACA].name
    [item] = re.findall(r'<li data-kind="opt_out">(.*?)</li>', page, re.S)
    assert f"Ne reçoit plus : Les envois régionaux : {chamber}" in item
    assert "lien « se désinscrire » du message" in item and long_date(utcnow()) in item  # dated


def test_a_stream_stopped_while_the_mailing_waits_to_go_is_respected(
    mail_app, smtp_server, client, make_user, make_contact, make_mailing, demo_campaign
):
    from mailings import services

    paca = make_user("regional", region=PACA)
    journalist, colleague = make_contact(region=PACA), make_contact(region=PACA)
    mailing = make_mailing([journalist, colleague], user=paca)
    services.start(mailing, utcnow())  # the audience is frozen: both pending
    db.session.commit()
    assert delivery_of(mailing, journalist).status == "pending"
    earlier = make_mailing([journalist], user=paca)  # a message of the same stream received before
    client.post(f"/unsubscribe/{unsubscribe_token(journalist.id, earlier.id)}", data="List-Unsubscribe=One-Click")
    mailing = send(mail_app, mailing)
    assert set(smtp_server.by_recipient()) == {colleague.email}
    skipped = delivery_of(mailing, journalist)
    assert (skipped.status, skipped.last_error) == ("skipped", STOPPED_REASON)


def test_the_recipient_list_says_who_stopped_the_stream_before_sending(
    client, login, make_user, make_contact, make_mailing, demo_campaign
):
    """Before a mailing goes, its page and API name whoever stopped its stream, with that reason."""
    from mailings.audience import recipients

    paca = make_user("regional", region=PACA)
    stopped, kept = make_contact(region=PACA, last_name="Arrêté"), make_contact(region=PACA, last_name="Gardé")
    db.session.add(SubscriptionChoice(contact_id=stopped.id, stream=PACA, receives=False, chosen_at=utcnow()))
    db.session.commit()
    regional = make_mailing([stopped, kept], user=paca)
    listed = recipients(regional)
    reasons = {item["contact_id"]: item["excluded_because"] for item in listed["items"]}
    assert reasons == {stopped.id: "stopped_stream", kept.id: None}
    national = make_mailing([stopped, kept], user=make_user("national"))
    assert {item["excluded_because"] for item in recipients(national)["items"]} == {None}  # another stream
    login(paca)
    page = unescape(client.get(f"/mailings/{regional.id}").get_data(as_text=True))
    assert "a choisi de ne plus recevoir ces envois" in page


def test_a_one_click_and_a_click_at_once_stop_the_stream_once(
    mail_app, smtp_server, make_user, make_contact, make_mailing, demo_campaign, regions, app
):
    """A mail provider's one-click POST and the person's own click together: the second finds the row
    the first has just written between its look and its insert, and says the same over it."""
    paca = make_user("regional", region=PACA)
    journalist = make_contact(email="marius@nice-matin.example", region=PACA)
    send(mail_app, make_mailing([journalist], user=paca))
    message = smtp_server.by_recipient()[journalist.email][0].parsed()
    one_click = urlsplit(message["List-Unsubscribe"].strip("<>")).path

    done = []

    def twin_first(session, context, instances):
        if not done and any(isinstance(row, SubscriptionChoice) for row in session.new):
            done.append(True)
            with db.engine.begin() as other:  # the other click's connection commits the same choice first
                other.execute(
                    SubscriptionChoice.__table__.insert().values(
                        contact_id=journalist.id, stream=PACA, receives=False, channel="page", chosen_at=utcnow()
                    )
                )

    event.listen(db.session, "before_flush", twin_first)
    try:
        answer = app.test_client().post(
            one_click, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    finally:
        event.remove(db.session, "before_flush", twin_first)
    assert done and answer.status_code == 200 and "désinscrite de ces envois" in answer.text
    db.session.expire_all()
    assert choices(journalist) == {PACA: False}
