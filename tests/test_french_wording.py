"""Every sentence a person reads is French (the catalog gives English on request), errors included."""

import io
from datetime import date
from html import unescape

from formatting import french_date, long_date
from mailings.rendering import date_fr

WERKZEUG_ENGLISH = ("The requested URL", "The method is not allowed", "Internal Server Error", "browser (or proxy)")


def test_error_pages_are_french_and_send_the_public_to_public_pages(client):
    missing = client.get("/newsroom/999999")
    page = unescape(missing.get_data(as_text=True))
    assert missing.status_code == 404 and "Page introuvable" in page
    assert "Cette page n'existe pas, ou plus." in page
    assert not any(english in page for english in WERKZEUG_ENGLISH)
    assert 'href="/newsroom"' in page and "Retour au tableau de bord" not in page
    wrong_method = client.delete("/login")
    page = unescape(wrong_method.get_data(as_text=True))
    assert wrong_method.status_code == 405 and "méthode DELETE non acceptée" in page
    assert not any(english in page for english in WERKZEUG_ENGLISH)
    english = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "This page does not exist" in english


def test_staff_error_pages_lead_back_to_the_dashboard(client, login, make_user):
    login(make_user("national"))
    page = client.get("/mailings/999999").get_data(as_text=True)
    assert "Retour au tableau de bord" in page and not any(english in page for english in WERKZEUG_ENGLISH)


def test_the_first_of_the_month_is_an_ordinal():
    assert date_fr(date(2008, 5, 1)) == "jeudi 1er mai 2008"
    assert date_fr(date(2008, 6, 19)) == "jeudi 19 juin 2008"
    assert french_date(date(2008, 11, 1), "d MMMM y", "fr") == "1er novembre 2008"
    assert french_date(date(2008, 11, 1), "d MMMM y", "en") == "1 November 2008"
    assert long_date(date(2008, 11, 1)) == "1er novembre 2008"


def test_the_sample_contact_of_a_preview_has_the_mailings_region(app, api, make_user, make_mailing, regions):
    lead = make_user("national")
    national = make_mailing([], user=lead)
    preview = api(lead).get(f"/api/v1/mailings/{national.id}/preview").get_json()
    first = sorted(regions.values(), key=lambda r: r.name)[0].name
    assert f"— {first}" in preview["subject"]  # the demo subject ends with "— {{ region.name }}"
    breton = make_user("regional", region="53")
    regional = make_mailing([], user=breton)
    preview = api(breton).get(f"/api/v1/mailings/{regional.id}/preview").get_json()
    assert preview["subject"].endswith("— Bretagne"), preview["subject"]


def test_a_bad_address_in_an_import_is_explained_in_french(app, api, make_user):
    rows = "Courriel;Nom\r\nherve@@example.org;Le Gall\r\npas-une-adresse;Sans\r\nun espace@example.org;Vide\r\n"
    report = (
        api(make_user("national"))
        .post(
            "/api/v1/contacts/import",
            data={"file": (io.BytesIO(rows.encode()), "contacts.csv")},
            content_type="multipart/form-data",
        )
        .get_json()
    )
    messages = [e["message"] for e in report["errors"]]
    assert messages == [
        "adresse e-mail invalide (herve@@example.org) : caractère non permis : '@'",
        "adresse e-mail invalide (pas-une-adresse) : il manque le @",
        "adresse e-mail invalide (un espace@example.org) : caractère non permis : espace",
    ]


def test_statuses_and_roles_read_as_labels(app, client, login, make_user):
    assert app.jinja_env.filters["mailing_status"]("scheduled") == "Programmé"
    login(make_user("admin"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Administrateur" in page and "<td>admin</td>" not in page


def test_refusals_shown_in_pages_are_french(app, api, make_user, make_mailing, demo_campaign):
    lead = api(make_user("national"))
    refused = lead.post("/api/v1/templates", json={"name": "Essai", "subject": "Bonjour", "html": "{{ nope }}"})
    assert refused.status_code == 422
    assert "« nope » n'est pas un champ connu" in refused.get_json()["error"]["message"]
    empty = make_mailing([])
    answer = lead.post(f"/api/v1/mailings/{empty.id}/send-now")
    assert answer.get_json()["error"]["message"] == "Aucun destinataire : l'audience est vide."
    regional = api(make_user("regional", region="91"))
    elsewhere = {"region": "93", "title": "Forum", "starts_at": "2008-11-06T09:00"}
    denied = regional.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json=elsewhere)
    assert denied.status_code == 403
    assert denied.get_json()["error"]["message"] == "Vous ne pouvez modifier que les données de votre région."
    bad = regional.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json={**elsewhere, "themes": ["Inconnu"]})
    assert bad.get_json()["error"]["fields"]["themes"] == "thème inconnu : Inconnu"
