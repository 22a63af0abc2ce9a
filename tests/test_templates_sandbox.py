"""User templates run in a sandbox: every escape is refused at save or preview time, never run."""

import pytest

from errors import ValidationFailed
from mailings.rendering import compile_template, date_fr, render_checked, text_source

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config }}",
    "{{ config.SECRET_KEY }}",
    "{{ self }}",
    "{{ request }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ contact.__class__ }}",
    "{{ contact['__class__'] }}",
    "{{ contact|attr('__class__') }}",
    "{{ contact.email.upper() }}",
    "{{ range(10**9)|list }}",
    "{{ 'x' * 100000000 }}",
    "{% for i in range(100000) %}{% endfor %}",
    "{% set s = 'x' %}{{ s }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% include 'base.html' %}",
    "{% import 'base.html' as b %}",
    "{% extends 'base.html' %}",
    "{% for a in events %}{% for b in events %}{% for c in events %}{% endfor %}{% endfor %}{% endfor %}",
    "{{ contact.first_name|center(1000000000) }}",
    "{{ '%s'|format(contact) }}",
    "{{ contact.nothing_like_this }}",
    "{{ unknown_name }}",
    "{{ '<script>alert(1)</script>'|safe }}",  # raw HTML past the editor's cleaning
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_are_refused_at_save(source):
    with pytest.raises(ValidationFailed):
        compiled = compile_template("Objet", f"<p>{source}</p>")
        render_checked(compiled, sample_context())


@pytest.mark.parametrize("source", ESCAPES[:6])
def test_escapes_in_the_subject_are_refused(source):
    with pytest.raises(ValidationFailed) as refused:
        compile_template(source, "<p>Bonjour</p>")
    assert "subject" in refused.value.fields


def sample_context():
    from datetime import UTC, date, datetime

    return {
        "contact": {
            "first_name": "Léa",
            "last_name": "Müller",
            "full_name": "Léa Müller",
            "email": "lea@example.org",
            "organisation": "La Provence",
            "kind": "media",
        },
        "region": {"code": "93", "name": "Provence-Alpes-Côte d'Azur"},
        "campaign": {"name": "Mois de l'ESS 2008", "starts_on": date(2008, 11, 1), "ends_on": date(2008, 11, 30)},
        "mailing": {"name": "Invitation"},
        "conference": {
            "title": "Conférence",
            "starts_at": datetime(2008, 6, 19, 10, tzinfo=UTC),
            "venue": "",
            "city": "Marseille",
        },
        "events": [{"title": "Forum", "type": "forum", "starts_at": datetime(2008, 11, 5, tzinfo=UTC), "city": "Aix"}],
        "unsubscribe_url": "http://relais.test/unsubscribe/x",
        "rsvp_yes_url": "http://relais.test/rsvp/yes",
        "rsvp_no_url": "http://relais.test/rsvp/no",
    }


def test_the_allowed_context_renders_escaped_and_in_french():
    compiled = compile_template(
        "Invitation : {{ campaign.name }}",
        "<p>Bonjour {{ contact.first_name }} ({{ contact.organisation }}), le {{ conference.starts_at|date_fr }}"
        "{% for e in events %} · {{ e.title|upper }} {{ e.starts_at|date_fr }}{% endfor %}</p>"
        "<p>{{ '<b>' }}</p>",
    )
    subject, html, text = render_checked(compiled, sample_context())
    assert subject == "Invitation : Mois de l'ESS 2008"  # the subject is text: not HTML-escaped
    assert "Bonjour Léa (La Provence), le jeudi 19 juin 2008" in html
    assert "FORUM mercredi 5 novembre 2008" in html
    assert "&lt;b&gt;" in html
    assert "Bonjour Léa (La Provence), le jeudi 19 juin 2008" in text
    assert date_fr(None) == ""


def test_the_text_part_is_derived_from_the_html_template():
    source = text_source(
        '<h1>Titre</h1><p>Bonjour {{ contact.first_name }},</p><p><a href="{{ rsvp_yes_url }}">Oui</a></p>'
    )
    assert source == "Titre\n\nBonjour {{ contact.first_name }},\n\nOui ({{ rsvp_yes_url }})\n"


def test_a_syntax_error_names_the_field():
    with pytest.raises(ValidationFailed) as refused:
        compile_template("Objet", "<p>{{ contact.first_name </p>")
    assert "html" in refused.value.fields


def test_the_api_refuses_an_escape_with_422_naming_the_field(api, make_user, demo_campaign):
    user = make_user("national")
    answer = api(user).post(
        "/api/v1/templates", json={"name": "x", "subject": "Objet", "html": "{{ ''.__class__.__mro__ }}"}
    )
    assert answer.status_code == 422
    assert "html" in answer.get_json()["error"]["fields"]
    from extensions import db
    from mailings.models import EmailTemplate

    assert db.session.query(EmailTemplate).count() == 0
