"""Events: the public proposal form and its protections, moderation with its emails (to a real SMTP
server on loopback), region scoping on the pages."""

import socket

import pytest
from sqlalchemy import func, select

from campaign.models import Event
from extensions import db
from tests.conftest import csrf_from
from tests.fixtures_mail import ask_for_smtp, body

PROPOSAL = {
    "title": "Portes ouvertes de la Ressourcerie du Vieux-Port",
    "region": "93",
    "type": "Journée portes ouvertes",
    "themes": ["Recyclage", "Insertion"],
    "starts_at": "2008-11-15T10:00",
    "ends_at": "2008-11-15T17:00",
    "city": "Marseille",
    "venue": "Ressourcerie du Vieux-Port",
    "organiser": "Ressourcerie du Vieux-Port",
    "organiser_email": "contact@ressourcerie.example.org",
    "description": "Visite de l'atelier et de la boutique solidaire.",
}


@pytest.fixture
def propose(client):
    def send(address="192.0.2.10", **changes):
        page = client.get("/events/propose")
        data = {**PROPOSAL, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))}
        return client.post("/events/propose", data=data, environ_base={"REMOTE_ADDR": address})

    return send


def events_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def test_proposal_approval_and_emails(app, client, demo_campaign, make_user, login, inbox, propose):
    coordinator = make_user("regional", region="93", email="coord-paca@example.org")
    make_user("regional", region="91", email="coord-lr@example.org")
    response = propose()
    assert response.status_code == 302 and response.location.endswith("/events/propose/thanks")
    event = db.session.scalar(select(Event).where(Event.title == PROPOSAL["title"]))
    assert event.status == "proposed" and event.region.code == "93" and event.themes == ["Recyclage", "Insertion"]
    # the region's coordinator is told, nobody else
    told = inbox.to("coord-paca@example.org")
    assert len(told) == 1 and inbox.to("coord-lr@example.org") == []
    assert "Nouvelle proposition" in told[0]["Subject"]
    assert f"/events/{event.id}" in body(told[0]) and told[0].get_body(("html",)) is not None
    # nothing public before approval
    assert PROPOSAL["title"] not in client.get("/programme").get_data(as_text=True)
    assert PROPOSAL["title"].encode() not in client.get("/programme.ics").data

    login(coordinator)
    page = client.get(f"/events/{event.id}")
    assert page.status_code == 200 and "Approuver" in page.get_data(as_text=True)
    response = client.post(f"/events/{event.id}/approve", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    db.session.refresh(event)
    assert event.status == "approved"
    decision = inbox.to(PROPOSAL["organiser_email"])
    assert len(decision) == 1 and "publié" in decision[0]["Subject"]
    assert "/programme?region=93" in body(decision[0])
    assert PROPOSAL["title"] in client.get("/programme").get_data(as_text=True)


def test_rejection_needs_a_reason_and_sends_it(app, client, demo_campaign, make_user, login, inbox, propose):
    coordinator = make_user("regional", region="93")
    propose()
    event = db.session.scalar(select(Event))
    login(coordinator)
    token = csrf_from(client.get(f"/events/{event.id}").get_data(as_text=True))
    client.post(f"/events/{event.id}/reject", data={"csrf_token": token, "reason": ""})
    db.session.refresh(event)
    assert event.status == "proposed"
    client.post(f"/events/{event.id}/reject", data={"csrf_token": token, "reason": "Hors période du Mois."})
    db.session.refresh(event)
    assert event.status == "rejected" and event.rejection_reason == "Hors période du Mois."
    decision = inbox.to(PROPOSAL["organiser_email"])
    assert len(decision) == 1 and "Hors période du Mois." in body(decision[0])
    assert PROPOSAL["title"] not in client.get("/programme").get_data(as_text=True)


def test_csrf_is_required(app, client, demo_campaign):
    response = client.post("/events/propose", data=PROPOSAL)
    assert response.status_code == 400
    assert events_count() == 0


def test_honeypot_keeps_nothing_and_sends_nothing(app, client, demo_campaign, make_user, inbox, propose):
    make_user("regional", region="93")
    response = propose(website="http://spam.example.org")
    assert response.status_code == 302  # looks accepted to the robot
    assert events_count() == 0 and inbox.messages == []


def test_rate_limit_per_address_is_kept_in_the_database(app, client, demo_campaign, propose, inbox):
    app.config["EVENT_PROPOSAL_LIMIT"] = 2
    try:
        assert propose(address="198.51.100.7").status_code == 302
        assert propose(address="198.51.100.7", title="Deuxième").status_code == 302
        refused = propose(address="198.51.100.7", title="Troisième")
        assert refused.status_code == 429 and "Trop de propositions" in refused.get_data(as_text=True)
        assert propose(address="198.51.100.8", title="Autre adresse").status_code == 302
    finally:
        app.config.pop("EVENT_PROPOSAL_LIMIT")
    assert events_count() == 3


def test_size_limits(app, client, demo_campaign, propose):
    too_long = propose(title="x" * 201)
    assert too_long.status_code == 422 and 'id="title-error"' in too_long.get_data(as_text=True)
    too_many = propose(
        themes=[
            "Recyclage",
            "Insertion",
            "Fondations",
            "Bénévolat associatif",
            "Éducation populaire",
            "Développement durable",
        ]
    )
    assert too_many.status_code == 422
    huge = propose(description="x" * 40_000)  # beyond the form's byte limit, before any parsing
    assert huge.status_code == 413
    assert events_count() == 0


def test_bad_input_is_a_form_error(app, client, demo_campaign, propose):
    response = propose(organiser_email="pas-une-adresse", themes=["Thème inventé"], starts_at="2031-01-01T10:00")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="organiser_email-error"' in text
    assert events_count() == 0


def test_moderation_is_scoped_to_the_region(app, client, demo_campaign, make_user, login, propose, inbox):
    propose()
    event = db.session.scalar(select(Event))
    other = make_user("regional", region="91")
    login(other)
    assert client.get(f"/events/{event.id}").status_code == 403
    assert client.get("/events").status_code == 200
    assert PROPOSAL["title"] not in client.get("/events").get_data(as_text=True)
    page = client.get("/events/new")
    token = csrf_from(page.get_data(as_text=True))
    assert client.post(f"/events/{event.id}/approve", data={"csrf_token": token}).status_code == 403
    db.session.refresh(event)
    assert event.status == "proposed"


def test_viewer_reads_but_cannot_moderate(app, client, demo_campaign, make_user, login, propose, inbox):
    propose()
    event = db.session.scalar(select(Event))
    login(make_user("viewer"))
    page = client.get(f"/events/{event.id}")
    assert page.status_code == 200 and "Approuver" not in page.get_data(as_text=True)
    assert client.get("/events/new").status_code == 403


def test_staff_create_and_edit_an_event(app, client, demo_campaign, make_user, login):
    coordinator = make_user("regional", region="53")
    login(coordinator)
    page = client.get("/events/new")
    data = {**PROPOSAL, "region": "53", "city": "Rennes", "csrf_token": csrf_from(page.get_data(as_text=True))}
    response = client.post("/events/new", data=data)
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.status == "approved" and event.region.code == "53"
    data["region"] = "93"  # not a region this coordinator may write: not even offered
    response = client.post(f"/events/{event.id}/edit", data=data)
    assert response.status_code == 200 and 'id="region-error"' in response.get_data(as_text=True)
    db.session.refresh(event)
    assert event.region.code == "53"


def test_vocabulary_is_editable_by_the_national_team(app, client, demo_campaign, make_user, login):
    login(make_user("national"))
    page = client.get("/events/vocabulary")
    assert "Journée portes ouvertes" in page.get_data(as_text=True)
    response = client.post(
        "/events/vocabulary",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "types": "Forum\nAtelier",
            "themes": "Insertion\nNumérique solidaire",
        },
    )
    assert response.status_code == 302
    form = client.get("/events/new").get_data(as_text=True)
    assert "Atelier" in form and "Numérique solidaire" in form and "Colloque" not in form


def test_mail_server_down_keeps_the_proposal(app, client, demo_campaign, make_user, propose):
    make_user("regional", region="93")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ask_for_smtp(port)  # a server that is down, on purpose
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", port, False
    try:
        response = propose()
    finally:
        state.server, state.port, state.suppress = saved
    assert response.status_code == 302
    assert db.session.scalar(select(Event.status)) == "proposed"
