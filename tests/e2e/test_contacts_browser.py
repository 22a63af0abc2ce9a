"""In Chromium: import a CSV through the page with a column mapping, read the report, find a contact by an
accent-less search."""

from tests.conftest import PASSWORD

CSV = (
    "Identité;Mél professionnel;Rédaction\n"
    "Amélie Heuzé;amelie.heuze@example.org;Ouest-France\n"
    "Yann Le Bihan;yann.lebihan@example.org;Le Télégramme\n"
    "Sans Adresse;;Le Télégramme\n"
).encode("cp1252")


def test_import_with_mapping_then_search_without_accents(
    page, live_server, browser_login, make_user, regions, console_errors, artifacts, app, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    page.set_default_timeout(10_000)
    browser_login(make_user("national"), PASSWORD)
    page.goto(f"{live_server}/contacts")
    page.get_by_role("button", name="Importer un fichier").click()
    page.get_by_label("Fichier CSV").set_input_files(
        {"name": "presse-bretagne.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    page.get_by_label("Source").fill("Fichier presse Bretagne 2008")
    page.get_by_label("Type par défaut").select_option("media")
    page.get_by_label("Région par défaut").select_option("53")
    page.get_by_role("button", name="Envoyer le fichier").click()

    page.get_by_role("heading", name="Correspondance des colonnes").wait_for()
    assert page.get_by_label("Rédaction").input_value() == "outlet"  # recognised by its name
    assert page.get_by_label("Mél professionnel").input_value() == ""  # not recognised: mapped by hand
    page.get_by_label("Identité").select_option("full_name")
    page.get_by_label("Mél professionnel").select_option("email")
    page.get_by_role("button", name="Importer", exact=True).click()

    page.wait_for_url("**/report")
    assert page.locator('[data-count="created"]').inner_text() == "2"
    assert page.locator('[data-count="errors"]').inner_text() == "1"
    assert "adresse e-mail manquante" in page.locator("table.import-errors").inner_text()
    page.screenshot(path=str(artifacts / "contacts-import-report.png"), full_page=True)

    page.get_by_role("button", name="Voir les contacts").click()
    page.get_by_role("searchbox", name="Rechercher").fill("heuze")
    page.get_by_role("searchbox", name="Rechercher").press("Enter")
    page.wait_for_url("**/contacts?q=heuze*")
    rows = page.locator("table.contacts-table tbody tr")
    assert rows.count() == 1
    assert "Amélie Heuzé" in rows.first.inner_text() and "Bretagne" in rows.first.inner_text()
    assert console_errors == []


def test_a_large_import_runs_in_the_background_and_its_page_follows_it(
    page, live_server, browser_login, make_user, regions, console_errors, app, monkeypatch, tmp_path
):
    from contacts.import_jobs import run_queued

    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_BYTES", 50)  # this small file counts as large
    page.set_default_timeout(10_000)
    browser_login(make_user("national"), PASSWORD)
    page.goto(f"{live_server}/contacts/import")
    page.get_by_label("Fichier CSV").set_input_files({"name": "gros.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Envoyer le fichier").click()
    page.get_by_role("heading", name="Correspondance des colonnes").wait_for()
    page.get_by_label("Identité").select_option("full_name")
    page.get_by_label("Mél professionnel").select_option("email")
    page.get_by_role("button", name="Importer", exact=True).click()

    page.wait_for_url("**/contacts/import/jobs/*")
    page.get_by_role("heading", name="Import en cours").wait_for()
    assert page.locator("#import-job-status").inner_text() == "en attente"
    run_queued(app)  # the active scheduler's turn; the page sees it by itself
    page.get_by_role("heading", name="Rapport d'import").wait_for()
    assert page.locator('[data-count="created"]').inner_text() == "2"
    assert "adresse e-mail manquante" in page.locator("table.import-errors").inner_text()
    assert console_errors == []


def test_the_journalists_of_two_cities_are_found_by_typing_them(
    page, live_server, browser_login, make_user, make_contact, console_errors, artifacts
):
    make_contact(first_name="Yann", last_name="Le Bihan", city="Rennes", region="53")
    make_contact(first_name="Gwen", last_name="Morvan", city="BREST", region="53")
    make_contact(first_name="Lucie", last_name="Fabre", city="Montpellier", region="91")
    page.set_default_timeout(10_000)
    browser_login(make_user("national"), PASSWORD)
    page.goto(f"{live_server}/contacts")
    page.get_by_label("Ville").fill("rennes, Brèst")
    page.get_by_label("Ville").press("Enter")
    page.wait_for_url("**/contacts?*city=*")
    rows = page.locator("table.contacts-table tbody tr")
    assert sorted(rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())) == [
        "Gwen Morvan",
        "Yann Le Bihan",
    ]
    assert page.locator(".audience-summary").inner_text() == "à rennes, Brèst"
    assert page.get_by_label("Ville").input_value() == "rennes, Brèst"
    page.screenshot(path=str(artifacts / "contacts-city-filter.png"), full_page=True)
    assert console_errors == []
