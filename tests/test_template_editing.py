"""Writing a template without HTML: what the editor or a paste sends is cleaned on the server,
plain paragraphs stay paragraphs, and a mistyped field is said in French."""

from mailings.rendering import compile_template
from mailings.sanitize import clean_html


def test_scripts_event_handlers_and_javascript_links_pasted_in_are_removed():
    pasted = (
        '<p onclick="steal()" style="color:red">Bonjour</p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">ici</a><img src="https://example.org/logo.png" onerror="x()" alt="Logo">'
        '<iframe src="https://example.org"></iframe><style>p{}</style><form><input></form>'
    )
    cleaned = clean_html(pasted)
    for refused in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "<form", "<input", "style="):
        assert refused not in cleaned
    assert '<img src="https://example.org/logo.png" alt="Logo">' in cleaned and "<p>Bonjour</p>" in cleaned


def test_a_paste_from_word_keeps_its_words_and_loses_its_office_markup():
    word = (
        '<p class="MsoNormal"><!--[if gte mso 9]><xml><o:OfficeDocumentSettings/></xml><![endif]-->'
        '<span lang="FR" style="mso-ansi-language:FR">Madame, Monsieur,</span><o:p></o:p></p>'
        '<p class="MsoListParagraph"><b>Date</b> : <i>jeudi</i></p>'
    )
    cleaned = clean_html(word)
    assert "mso" not in cleaned.replace("Mso", "") and "<o:p>" not in cleaned and "<!--" not in cleaned
    assert "Madame, Monsieur," in cleaned and "<b>Date</b>" in cleaned and "<i>jeudi</i>" in cleaned


def test_jinja_tags_and_answer_links_survive_the_cleaning():
    source = (
        "<p>Bonjour {{ contact.first_name }},</p>{% if events|length > 1 %}<p>Programme</p>{% endif %}"
        '<p><a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a></p>'
    )
    assert clean_html(source) == source


def test_text_typed_without_markup_keeps_its_paragraphs_and_line_breaks():
    typed = "Bonjour {{ contact.first_name }},\n\nVoici notre invitation.\nÀ bientôt & merci\n\n\nL'équipe"
    assert clean_html(typed) == (
        "<p>Bonjour {{ contact.first_name }},</p>\n"
        "<p>Voici notre invitation.<br>\nÀ bientôt &amp; merci</p>\n"
        "<p>L'équipe</p>\n"
    )


def test_a_mistyped_field_is_said_in_french_with_the_fields_that_exist(api, make_user, demo_campaign):
    lead = api(make_user("national"))
    answer = lead.post(
        "/api/v1/templates",
        json={"name": "Essai", "subject": "Invitation", "html": "<p>Bonjour {{ contact.prénom }}</p>"},
    )
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert "« contact.prénom » n'est pas un champ connu" in error["message"]
    assert "« Prénom » {{ contact.first_name }}" in error["message"] and "has no attribute" not in error["message"]
    assert error["fields"]["html"] == "« contact.prénom » n'est pas un champ connu"
    guessed = lead.post("/api/v1/templates", json={"name": "Essai", "subject": "{{ prénom }}", "html": "<p>x</p>"})
    assert "Objet : « prénom » n'est pas un champ connu" in guessed.get_json()["error"]["message"]


def test_the_time_of_the_conference_is_a_field():
    from datetime import datetime

    from mailings.rendering import render_checked

    compiled = compile_template("x", "<p>{{ conference.starts_at|datetime_fr }}</p>")
    context = {
        "conference": {"starts_at": datetime(2008, 9, 9, 10, 30)},
        **{n: "" for n in ("contact", "region", "campaign", "mailing", "events")},
        **{n: "" for n in ("unsubscribe_url", "rsvp_yes_url", "rsvp_no_url")},
    }
    assert render_checked(compiled, context)[1] == "<p>mardi 9 septembre 2008 à 10 h 30</p>"


def test_an_image_without_alternative_text_is_refused(api, make_user, demo_campaign):
    lead = api(make_user("national"))
    body = {"name": "Affiche", "subject": "Affiche", "html": '<p><img src="https://example.org/a.png"></p>'}
    refused = lead.post("/api/v1/templates", json=body)
    assert refused.status_code == 422
    assert "sans texte de remplacement" in refused.get_json()["error"]["message"]
    body["html"] = '<p><img src="https://example.org/a.png" alt="Affiche du Mois"></p>'
    assert lead.post("/api/v1/templates", json=body).status_code == 201
