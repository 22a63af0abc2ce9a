"""In Chromium: an .xlsx made with openpyxl and an .ods written by LibreOffice imported through the
pages; the rows to fix downloaded, read by LibreOffice, fixed and imported again; civility, city and
job title shown and edited; every page visited checked at 375 pixels for sideways scrolling."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from contacts.models import Contact
from extensions import db
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits
from tests.readers import by_libreoffice, read_spreadsheet
from tests.sheets import xlsx
from tests.test_contacts_sheets import HEADERS, LIBREOFFICE_CSV, PRESS_ROWS


def contact(email: str) -> Contact | None:
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.email == email))


def fits_a_phone(page, shot=None) -> None:
    """At 375 pixels wide, the page does not scroll sideways (`shot`: a screenshot's path, to look at it)."""
    page.set_viewport_size({"width": 375, "height": 800})
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    assert_fits(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def upload(page, live_server, name: str, data: bytes, mime: str) -> None:
    page.goto(f"{live_server}/contacts/import")
    fits_a_phone(page)
    page.get_by_label("Fichier CSV").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    page.get_by_label("Source").fill("Fichier presse Bretagne 2027")
    page.get_by_role("button", name="Envoyer le fichier").click()
    page.get_by_role("heading", name="Correspondance des colonnes").wait_for()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_an_xlsx_imported_then_its_rows_to_fix_downloaded_fixed_in_libreoffice_and_imported_again(
    page, live_server, browser_login, make_user, regions, console_errors, artifacts, app, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    page.set_default_timeout(15_000)
    browser_login(make_user("national"), PASSWORD)
    upload(page, live_server, "presse-bretagne.xlsx", xlsx(PRESS_ROWS), XLSX)
    header = page.locator("hgroup p").inner_text()
    assert "Excel (.xlsx)" in header and "feuille « Presse », en-têtes ligne 3" in header
    assert page.get_by_label("Civilité", exact=True).input_value() == "civility"
    assert page.get_by_label("Ville", exact=True).input_value() == "city"
    assert page.get_by_label("Fonction", exact=True).input_value() == "job_title"
    preview = page.locator("table.import-preview").inner_text()
    assert "téléphone invalide : 12" in preview and "adresse e-mail invalide" in preview
    fits_a_phone(page, artifacts / "contacts-import-xlsx-mapping-375.png")
    page.get_by_role("button", name="Importer", exact=True).click()

    page.wait_for_url("**/report")
    assert page.locator('[data-count="created"]').inner_text() == "3"
    assert page.locator('[data-count="errors"]').inner_text() == "1"
    assert page.locator('[data-count="partial"]').inner_text() == "2"
    phone_row = page.locator('table.import-errors tr[data-field="phone"]')
    assert "Téléphone" in phone_row.inner_text() and "importé sans ce champ" in phone_row.inner_text()
    email_row = page.locator('table.import-errors tr[data-field="email"]')
    assert "Courriel" in email_row.inner_text() and "ligne rejetée" in email_row.inner_text()
    fits_a_phone(page)
    page.screenshot(path=str(artifacts / "contacts-import-xlsx-report.png"), full_page=True)
    fits_a_phone(page, artifacts / "contacts-import-xlsx-report-375.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger les lignes à corriger (CSV)").click()
    assert download.value.suggested_filename == "lignes-a-corriger.csv"
    rows_to_fix = download.value.path().read_bytes()
    head, *rows = read_spreadsheet(rows_to_fix)  # LibreOffice opens it as it is
    assert head == ["Ligne", "À corriger", *HEADERS] and [r[0] for r in rows] == [5, 6, 7]
    assert rows[0][6] == 12 and rows[0][7] == "Brest"  # the wrong phone kept to fix, the good cells too

    fixed = load_workbook(io.BytesIO(by_libreoffice(rows_to_fix, "xlsx")))  # fixed in LibreOffice
    fixed.active["G2"] = "02 98 00 00 00"
    fixed.active["F3"] = "sans.adresse@example.org"
    out = io.BytesIO()
    fixed.save(out)
    upload(page, live_server, "lignes-a-corriger.xlsx", out.getvalue(), XLSX)
    assert page.get_by_label("À corriger", exact=True).input_value() == ""  # ignored on the way back
    page.get_by_role("button", name="Importer", exact=True).click()
    page.wait_for_url("**/report")
    assert page.locator('[data-count="created"]').inner_text() == "1"
    assert page.locator('[data-count="updated"]').inner_text() == "2"
    assert page.locator('[data-count="errors"]').inner_text() == "0"
    assert page.locator('[data-count="partial"]').inner_text() == "1"  # "Dr" is still no civility

    yann = contact("yann.lebihan@example.org")
    page.goto(f"{live_server}/contacts/{yann.id}")
    details = page.locator("dl").first.inner_text()
    for shown in ("Monsieur", "Brest", "Rédacteur en chef", "+33298000000"):
        assert shown in details
    assert page.locator('[data-field="salutation"]').inner_text() == "Monsieur Le Bihan"
    fits_a_phone(page)
    assert console_errors == []


def test_an_ods_from_libreoffice_imported_then_a_civility_changed_in_the_form(
    page, live_server, browser_login, make_user, regions, console_errors, app, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    page.set_default_timeout(15_000)
    browser_login(make_user("national"), PASSWORD)
    ods = by_libreoffice(LIBREOFFICE_CSV, "ods")
    upload(page, live_server, "presse.ods", ods, "application/vnd.oasis.opendocument.spreadsheet")
    assert "OpenDocument (.ods)" in page.locator("hgroup p").inner_text()
    page.get_by_role("button", name="Importer", exact=True).click()
    page.wait_for_url("**/report")
    assert page.locator('[data-count="created"]').inner_text() == "3"
    assert page.locator('[data-count="errors"]').inner_text() == "0"
    assert page.get_by_role("button", name="Télécharger les lignes à corriger (CSV)").count() == 0

    unknown = contact("inconnu@example.org")
    page.goto(f"{live_server}/contacts/{unknown.id}")
    assert page.locator('[data-field="salutation"]').inner_text() == "Madame, Monsieur"
    page.get_by_role("button", name="Modifier").click()
    fits_a_phone(page)
    page.get_by_label("Civilité").select_option(label="Madame")
    page.get_by_label("Ville").fill("Morlaix")
    page.get_by_role("button", name="Enregistrer").click()
    page.locator('[data-field="salutation"]').wait_for()
    assert page.locator('[data-field="salutation"]').inner_text() == "Madame Sans Civilité"
    assert "Morlaix" in page.locator("dl").first.inner_text()
    gwen = contact("gwenaelle.legoff@example.org")
    assert (gwen.civility, gwen.city, gwen.job_title) == ("madame", "Saint-Brieuc", "Journaliste")
    assert console_errors == []
