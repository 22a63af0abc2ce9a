"""Real files: .xlsx, .ods and .xls imports, a bad cell that does not cost the whole row, the rows to
fix downloaded, fixed in LibreOffice and imported again; civility, city and job title, and the
salutation a mailing writes with them."""

import io
import zipfile

import vobject
from openpyxl import load_workbook
from sqlalchemy import select

from contacts.models import Contact
from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine.worker import Worker
from mailings.models import Mailing
from tests.readers import by_libreoffice, read_spreadsheet
from tests.sheets import xlsx
from tests.test_contacts_import import OUTLOOK
from tests.test_contacts_import_jobs import scheduler_runs_imports


def contact(email: str) -> Contact | None:
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.email == email))


def post_import(client, data: bytes, filename: str, **form):
    return client.post(
        "/api/v1/contacts/import",
        data={"file": (io.BytesIO(data), filename), **form},
        content_type="multipart/form-data",
    )


HEADERS = ["Civilité", "Prénom", "Nom", "Courriel", "Téléphone", "Ville", "Fonction", "Région"]
PRESS_ROWS = [
    ["Liste presse Bretagne 2027"],  # a title above the header, as people write workbooks
    [],
    HEADERS,
    ["Mme", "Amélie", "Heuzé", "amelie.heuze@example.org", 299000000, "Rennes", "Journaliste", "53"],
    ["M.", "Yann", "Le Bihan", "yann.lebihan@example.org", "12", "Brest", "Rédacteur en chef", "Bretagne"],
    ["Madame", "Sans", "Adresse", "pas-une-adresse", "06 12 34 56 78", "Lorient", "Pigiste", "53"],
    ["Dr", "Maïwenn", "Kerouac", "maiwenn.kerouac@example.org", None, "Quimper", "Cheffe d'édition", "53"],
]


def test_an_xlsx_keeps_good_cells_of_a_bad_row_and_its_rows_to_fix_go_through_libreoffice_and_back(
    app, api, make_user, regions, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    client = api(make_user("national"))
    answer = post_import(client, xlsx(PRESS_ROWS), "presse.xlsx", source="Fichier presse 2027")
    assert answer.status_code == 200, answer.json
    report = answer.json
    assert (report["file_type"], report["sheet"], report["encoding"]) == ("xlsx", "Presse", "")
    assert (report["created"], report["rejected"], report["partial"]) == (3, 1, 2)
    by_row = {(e["row"], e["field"]): e for e in report["errors"]}
    assert sorted(by_row) == [(5, "phone"), (6, "email"), (7, "civility")]  # the workbook's own row numbers
    assert by_row[(5, "phone")]["column"] == "Téléphone" and by_row[(5, "phone")]["imported"] is True
    assert "téléphone invalide : 12" in by_row[(5, "phone")]["message"]
    assert by_row[(6, "email")]["imported"] is False and by_row[(6, "email")]["column"] == "Courriel"
    assert "Dr" in by_row[(7, "civility")]["message"]

    amelie = contact("amelie.heuze@example.org")
    assert (amelie.civility, amelie.city, amelie.job_title) == ("madame", "Rennes", "Journaliste")
    assert amelie.phone == "+33299000000"  # the leading zero a spreadsheet dropped
    assert amelie.region.code == "53" and amelie.source == "Fichier presse 2027"
    yann = contact("yann.lebihan@example.org")  # the wrong phone left out, the rest kept
    assert (yann.civility, yann.city, yann.job_title, yann.phone) == ("monsieur", "Brest", "Rédacteur en chef", "")
    assert contact("maiwenn.kerouac@example.org").civility is None
    assert contact("pas-une-adresse") is None

    downloaded = client.get(report["rejected_url"])
    assert downloaded.status_code == 200 and downloaded.mimetype == "text/csv"
    assert downloaded.data.startswith(b"\xef\xbb\xbf")
    header, *rows = read_spreadsheet(downloaded.data)  # as LibreOffice opens it
    assert header == ["Ligne", "À corriger", *HEADERS]
    assert [row[0] for row in rows] == [5, 6, 7]
    yann_row, bad_row, doctor_row = rows
    assert "colonne « Téléphone » : téléphone invalide : 12" in yann_row[1] and yann_row[2:6] == [
        "M.",
        "Yann",
        "Le Bihan",
        "yann.lebihan@example.org",
    ]
    assert "colonne « Courriel » : adresse e-mail invalide" in bad_row[1] and bad_row[7] == "Lorient"
    assert "civilité" in doctor_row[1]

    # fixed in LibreOffice, saved as a workbook, imported again as it is
    fixed = load_workbook(io.BytesIO(by_libreoffice(downloaded.data, "xlsx")))
    sheet = fixed.active
    sheet["G2"] = "02 98 00 00 00"  # Yann's phone
    sheet["F3"] = "sans.adresse@example.org"
    sheet["C4"] = "Mme"
    out = io.BytesIO()
    fixed.save(out)
    again = post_import(client, out.getvalue(), "lignes-a-corriger.xlsx")
    assert again.status_code == 200, again.json
    assert (again.json["created"], again.json["updated"], again.json["rejected"], again.json["partial"]) == (1, 2, 0, 0)
    assert again.json["errors"] == [] and "rejected_url" not in again.json
    assert contact("yann.lebihan@example.org").phone == "+33298000000"
    assert contact("sans.adresse@example.org").city == "Lorient"
    assert contact("maiwenn.kerouac@example.org").civility == "madame"

    other = api(make_user("regional", region="93"))
    assert other.get(report["rejected_url"]).status_code == 404  # only its owner and the national team


LIBREOFFICE_CSV = (
    "Civilité;Prénom;Nom;Courriel;Téléphone;Ville;Fonction;Organisme\r\n"
    "Madame;Gwenaëlle;Le Goff;gwenaelle.legoff@example.org;0299000000;Saint-Brieuc;Journaliste;Ouest-France\r\n"
    "Monsieur;Hervé;Tanguy;herve.tanguy@example.org;;Vannes;Chef d'agence;Le Télégramme\r\n"
    ";Inconnu;Sans Civilité;inconnu@example.org;;;;\r\n"
).encode()


def test_an_ods_and_an_xls_written_by_libreoffice_import_like_the_csv(app, api, make_user, regions):
    client = api(make_user("national"))
    for kind in ("ods", "xls"):
        workbook = by_libreoffice(LIBREOFFICE_CSV, kind)
        assert workbook[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
        answer = post_import(client, workbook, f"presse.{kind}")
        assert answer.status_code == 200, answer.json
        assert answer.json["file_type"] == kind and answer.json["errors"] == []
        assert answer.json["created"] + answer.json["updated"] == 3
    gwen = contact("gwenaelle.legoff@example.org")
    assert (gwen.civility, gwen.first_name, gwen.city, gwen.job_title) == (
        "madame",
        "Gwenaëlle",
        "Saint-Brieuc",
        "Journaliste",
    )
    assert gwen.phone == "+33299000000" and gwen.organisation.name == "Ouest-France"
    assert contact("herve.tanguy@example.org").civility == "monsieur"
    shown = client.get(f"/api/v1/contacts/{gwen.id}").json
    assert (shown["civility"], shown["city"], shown["salutation"]) == ("madame", "Saint-Brieuc", "Madame Le Goff")
    unknown = client.get(f"/api/v1/contacts/{contact('inconnu@example.org').id}").json
    assert unknown["civility"] is None and unknown["salutation"] == "Madame, Monsieur"


def test_a_file_that_is_no_table_is_refused_naming_the_file(app, api, make_user):
    client = api(make_user("national"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    refused = post_import(client, archive.getvalue(), "lettre.docx")
    assert refused.status_code == 422 and "file" in refused.json["error"]["fields"]
    assert "classeur" in refused.json["error"]["message"]
    empty = post_import(client, xlsx([]), "vide.xlsx")
    assert empty.status_code == 422 and "file" in empty.json["error"]["fields"]
    whole = xlsx([["Courriel"], ["cut@example.org"]])
    cut = post_import(client, whole[: len(whole) // 2], "coupé.xlsx")  # a download cut short
    assert cut.status_code == 422 and "file" in cut.json["error"]["fields"]


def test_civility_and_city_through_the_api_with_the_field_named_when_wrong(app, api, make_user):
    client = api(make_user("national"))
    made = client.post(
        "/api/v1/contacts",
        json={"email": "lea.muller@example.org", "last_name": "Müller", "civility": "madame", "city": "Marseille"},
    )
    assert made.status_code == 201 and made.json["salutation"] == "Madame Müller"
    wrong = client.patch(f"/api/v1/contacts/{made.json['id']}", json={"civility": "Docteur"})
    assert wrong.status_code == 422 and "civility" in wrong.json["error"]["fields"]
    cleared = client.patch(f"/api/v1/contacts/{made.json['id']}", json={"civility": None, "city": "Aix"})
    assert cleared.json["civility"] is None and cleared.json["city"] == "Aix"
    assert cleared.json["salutation"] == "Madame, Monsieur"
    client.patch(f"/api/v1/contacts/{made.json['id']}", json={"civility": "monsieur"})
    exported = client.get("/api/v1/contacts/export").data
    header, *rows = read_spreadsheet(exported)
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Civilité"], row["Ville"]) == ("Monsieur", "Aix")
    vcard = client.get("/api/v1/contacts/export?format=vcard").get_data(as_text=True)
    card = vobject.readOne(vcard)
    assert card.n.value.prefix == "M." and card.adr.value.city == "Aix"


def test_the_command_line_reads_a_workbook_and_writes_the_rows_to_fix(app, runner, regions, tmp_path):
    path = tmp_path / "presse.xlsx"
    path.write_bytes(xlsx(PRESS_ROWS))
    rejected = tmp_path / "a-corriger.csv"
    done = runner.invoke(args=["contacts", "import", str(path), "--rejected", str(rejected)])
    assert done.exit_code == 0, done.output
    assert "3 créés" in done.output and "1 rejetés, 2 incomplets" in done.output and "feuille « Presse »" in done.output
    header, *rows = read_spreadsheet(rejected.read_bytes())
    assert header[:3] == ["Ligne", "À corriger", "Civilité"] and [r[0] for r in rows] == [5, 6, 7]


def test_a_salutation_written_from_the_imported_civility_reaches_the_inbox(
    mail_app, smtp_server, api, make_user, make_mailing, regions
):
    client = api(make_user("national"))
    assert post_import(client, xlsx(PRESS_ROWS), "presse.xlsx").json["created"] == 3
    people = [contact(e) for e in ("amelie.heuze@example.org", "yann.lebihan@example.org")]
    people.append(contact("maiwenn.kerouac@example.org"))  # "Dr": no civility known
    mailing = make_mailing(
        people,
        subject="Invitation presse",
        html="<p>{{ contact.salutation }},</p><p>Vous écrivez à {{ contact.city }} ({{ contact.job_title }}).</p>",
    )
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    Worker(mail_app, connections=1, once=True, idle=0.05).run()
    received = smtp_server.by_recipient()
    texts = {}
    for person in people:
        message = received[person.email][0].parsed()  # the standard email package, strict policy
        texts[person.email] = message.get_body(("plain",)).get_content()
        assert message.get_body(("html",)).get_content().count(person.city) == 1
    assert "Madame Heuzé," in texts["amelie.heuze@example.org"]
    assert "Monsieur Le Bihan," in texts["yann.lebihan@example.org"]
    assert "Vous écrivez à Brest (Rédacteur en chef)." in texts["yann.lebihan@example.org"]
    assert "Madame, Monsieur," in texts["maiwenn.kerouac@example.org"]


def test_a_workbook_imported_in_the_background_keeps_its_rows_to_fix(
    app, api, make_user, regions, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_BYTES", 100)  # this workbook counts as large
    client = api(make_user("national"))
    queued = post_import(client, xlsx(PRESS_ROWS), "presse.xlsx")
    assert queued.status_code == 202
    scheduler_runs_imports(app)
    job = client.get(queued.json["url"]).json
    assert job["status"] == "done" and job["bytes"] == job["total"]
    report = job["report"]
    assert (report["file_type"], report["created"], report["rejected"], report["partial"]) == ("xlsx", 3, 1, 2)
    header, *rows = read_spreadsheet(client.get(report["rejected_url"]).data)
    assert header[:2] == ["Ligne", "À corriger"] and [r[0] for r in rows] == [5, 6, 7]


def test_outlook_title_is_the_civility_but_another_files_title_is_left_alone(app, api, make_user):
    client = api(make_user("national"))
    outlook = post_import(client, OUTLOOK.encode("cp1252"), "outlook.csv")
    assert outlook.json["format"] == "outlook" and outlook.json["partial"] == 0
    assert contact("gerard.duboeuf@example.org").civility == "monsieur"
    other = b"Name,E-mail,Title\nAnn Lee,ann.lee@example.org,Editor\n"
    answer = post_import(client, other, "press.csv")
    assert answer.json["created"] == 1 and answer.json["errors"] == []  # not read as a civility
    assert contact("ann.lee@example.org").civility is None
