"""Contact import: the files people really have, bad rows reported, one transaction, dry runs."""

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from contacts.models import Contact, Suppression
from contacts.suppression import suppress
from extensions import db
from tests.conftest import csrf_from, sign_out
from tests.readers import read_spreadsheet
from tests.sheets import xlsx


def count_contacts() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


def contact(email: str) -> Contact | None:
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.email == email))


def post_import(api_client, data: bytes, filename="contacts.csv", dry_run=False, **form):
    query = "?dry_run=1" if dry_run else ""
    return api_client.post(
        f"/api/v1/contacts/import{query}",
        data={"file": (io.BytesIO(data), filename), **form},
        content_type="multipart/form-data",
    )


FRENCH_EXCEL = (
    "Nom;Prénom;Courriel;Organisme;Région;Téléphone;Type;Étiquettes\r\n"
    "Heuzé;Amélie;Amelie.Heuze@Example.org;Ouest-France;53;02 99 00 00 00;Média;presse, pqr\r\n"
    "Lœuvre;Gaël;gael.loeuvre@example.org;Crédit Coopératif;Bretagne;;partenaire;partenaires\r\n"
    "Sans;Adresse;;Structure X;;;;\r\n"
    "Mauvais;Format;pas-une-adresse;;;;;\r\n"
    "Heuzé;Amélie (bis);amelie.heuze@example.org;;;;;\r\n"
    "Région;Inconnue;inconnue@example.org;;Atlantide;;;\r\n"
)


def test_french_excel_cp1252_semicolon_file_imports_accents_and_reports_bad_rows(app, api, make_user):
    admin = make_user("national")
    response = post_import(api(admin), FRENCH_EXCEL.encode("cp1252"), source="Fichier presse Bretagne")
    assert response.status_code == 200, response.json
    report = response.json
    assert (report["created"], report["updated"], report["skipped"]) == (2, 0, 0)
    assert report["encoding"] == "cp1252" and report["delimiter"] == ";"
    errors = {e["row"]: e["message"] for e in report["errors"]}
    assert sorted(errors) == [4, 5, 6, 7]
    assert "manquante" in errors[4]
    assert "invalide" in errors[5]
    assert "double" in errors[6] and "ligne 2" in errors[6]
    assert "Atlantide" in errors[7]
    heuze = contact("amelie.heuze@example.org")
    assert (heuze.first_name, heuze.last_name) == ("Amélie", "Heuzé")
    assert heuze.organisation.name == "Ouest-France"
    assert heuze.region.code == "53" and heuze.kind == "media"
    assert heuze.phone == "+33299000000"
    assert sorted(heuze.tags) == ["pqr", "presse"]
    assert heuze.source == "Fichier presse Bretagne" and heuze.legal_basis == "legitimate_interest"
    assert heuze.collected_at is not None
    gael = contact("gael.loeuvre@example.org")
    assert gael.last_name == "Lœuvre" and gael.region.code == "53" and gael.kind == "partner"


def test_utf8_bom_file_with_comma_separator(app, api, make_user):
    text = (
        "Prénom,Nom,E-mail,Structure,Rubriques\n"
        "Chloé,Noël,chloe.noel@example.org,Alternatives Économiques,économie sociale\n"
        ",,,,\n"
        "Zoé,Sans,@example.org,,\n"
        "Chloé,Noël,CHLOE.NOEL@example.org,,\n"
    )
    response = post_import(api(make_user("national")), b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = response.json
    assert report["encoding"] == "utf-8-sig" and report["delimiter"] == ","
    assert report["created"] == 1
    assert [e["row"] for e in report["errors"]] == [4, 5]  # row 3 is blank: not a contact
    chloe = contact("chloe.noel@example.org")
    assert chloe.first_name == "Chloé" and chloe.organisation.name == "Alternatives Économiques"
    assert chloe.beats == ["économie sociale"]


GOOGLE = (
    "Name,Given Name,Additional Name,Family Name,Nickname,Notes,Group Membership,"
    "E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,"
    "Organization 1 - Type,Organization 1 - Name,Organization 1 - Title\n"
    "Hervé Le Gall,Hervé,,Le Gall,,Rencontré au salon,* myContacts ::: Presse ::: ESS,"
    "* Work,herve.legall@example.org,Mobile,06 12 34 56 78,,Le Télégramme,Rédacteur en chef\n"
    "Sans Courriel,Sans,,Courriel,,,* myContacts,,,,,,,\n"
    "Adresse Fausse,Adresse,,Fausse,,,* myContacts,* Work,herve@@example.org,,,,,\n"
    "Hervé Le Gall,Hervé,,Le Gall,,,* myContacts,* Work,Herve.LeGall@example.org,,,,,\n"
)


def test_google_contacts_export_is_recognised_without_mapping(app, api, make_user):
    response = post_import(api(make_user("national")), GOOGLE.encode("utf-8"), filename="google.csv")
    report = response.json
    assert report["format"] == "google"
    assert report["created"] == 1
    assert [e["row"] for e in report["errors"]] == [3, 4, 5]
    herve = contact("herve.legall@example.org")
    assert (herve.first_name, herve.last_name, herve.job_title) == ("Hervé", "Le Gall", "Rédacteur en chef")
    assert herve.organisation.name == "Le Télégramme"
    assert herve.phone == "+33612345678"
    assert sorted(herve.tags) == ["ess", "presse"]  # Google's system group is not a tag
    assert herve.notes == "Rencontré au salon"


OUTLOOK = (
    "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,Business Phone,"
    "Mobile Phone,Categories,E-mail Address,E-mail Type,E-mail Display Name,Notes\n"
    "M.,Gérard,,Dubœuf,,Mutualité Française,Communication,Chargé de communication,+33 4 91 00 00 00,"
    ",Partenaires;Relais,gerard.duboeuf@example.org,SMTP,Gérard Dubœuf,\n"
    "Mme,Line,,Vide,,,,,,,,,,,\n"
    "Mme,Line,,Erronée,,,,,,,,line.erronee@example,SMTP,,\n"
    "M.,Gérard,,Dubœuf,,,,,,,,gerard.duboeuf@example.org,SMTP,,\n"
)


def test_outlook_export_in_windows_encoding_is_recognised(app, api, make_user):
    response = post_import(api(make_user("national")), OUTLOOK.encode("cp1252"), filename="outlook.csv")
    report = response.json
    assert report["format"] == "outlook" and report["encoding"] == "cp1252"
    assert report["created"] == 1
    assert [e["row"] for e in report["errors"]] == [3, 4, 5]
    gerard = contact("gerard.duboeuf@example.org")
    assert (gerard.first_name, gerard.last_name) == ("Gérard", "Dubœuf")
    assert gerard.job_title == "Chargé de communication" and gerard.organisation.name == "Mutualité Française"
    assert gerard.phone == "+33491000000"
    assert sorted(gerard.tags) == ["partenaires", "relais"]


def test_unknown_columns_need_a_mapping(app, api, make_user):
    data = "Qui;Adresse électronique pro;Boîte\nMarie Curie;marie.curie@example.org;Institut\n".encode()
    client = api(make_user("national"))
    refused = post_import(client, data)
    assert refused.status_code == 422 and "mapping" in refused.json["error"]["fields"]
    mapping = json.dumps({"Qui": "full_name", "Adresse électronique pro": "email", "Boîte": "organisation"})
    response = post_import(client, data, mapping=mapping, kind="institution")
    assert response.status_code == 200 and response.json["created"] == 1
    marie = contact("marie.curie@example.org")
    assert (marie.first_name, marie.last_name, marie.kind) == ("Marie", "Curie", "institution")
    bad = post_import(client, data, mapping=json.dumps({"Absente": "email"}))
    assert bad.status_code == 422 and "Absente" in bad.json["error"]["fields"]["mapping"]


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ('["email"]', None),
        ('"Courriel"', None),
        ("{Courriel: email}", None),
        ('{"Courriel": ["email"]}', "Courriel"),
        ('{"Courriel": {"champ": "email"}}', "Courriel"),
        ('{"Courriel": "email", "Nom": 0}', "Nom"),
        ('{"Courriel": "email", "Nom": "surnom"}', "Nom"),
        ('{"Courriel": "email", "Absente": "last_name"}', "Absente"),
    ],
)
def test_a_mapping_that_is_not_columns_to_fields_is_refused_by_name(app, api, make_user, mapping, named):
    data = b"Nom;Courriel\r\nDurand;durand@example.org\r\n"
    refused = post_import(api(make_user("national")), data, mapping=mapping)
    assert refused.status_code == 422, refused.json
    fields = refused.json["error"]["fields"]
    assert "mapping" in fields and (named is None or named in fields["mapping"]), fields
    assert count_contacts() == 0


def test_dry_run_changes_nothing_and_reports_the_same(app, api, make_user, make_contact):
    make_contact("amelie.heuze@example.org", first_name="Amélie", last_name="Ancienne")
    client = api(make_user("national"))
    before = count_contacts()
    dry = post_import(client, FRENCH_EXCEL.encode("cp1252"), dry_run=True)
    assert dry.status_code == 200 and dry.json["dry_run"] is True
    assert (dry.json["created"], dry.json["updated"]) == (1, 1)
    assert count_contacts() == before
    assert contact("amelie.heuze@example.org").last_name == "Ancienne"
    real = post_import(client, FRENCH_EXCEL.encode("cp1252"))
    assert (real.json["created"], real.json["updated"]) == (1, 1)
    assert real.json["errors"] == dry.json["errors"]
    assert contact("amelie.heuze@example.org").last_name == "Heuzé"


def test_duplicates_can_be_skipped_instead_of_updated(app, api, make_user, make_contact):
    make_contact("amelie.heuze@example.org", first_name="Amélie", last_name="Ancienne")
    response = post_import(api(make_user("national")), FRENCH_EXCEL.encode("cp1252"), on_duplicate="skip")
    assert (response.json["created"], response.json["updated"], response.json["skipped"]) == (1, 0, 1)
    assert contact("amelie.heuze@example.org").last_name == "Ancienne"


def test_a_failure_in_the_middle_of_a_file_leaves_the_database_as_before(app, api, make_user, make_contact):
    make_contact("deja.la@example.org", first_name="Déjà", last_name="Là")
    lines = ["Prénom;Nom;Courriel"] + [f"Jean;Numéro {i};jean.{i}@example.org" for i in range(2000)]
    lines.append("Déjà;Modifié;deja.la@example.org")
    data = "\n".join(lines).encode("utf-8") + "\nFin;Caf\xe9;cafe@example.org\n".encode("latin-1")
    assert len(data) > 70_000  # the bad byte is far beyond what is sniffed, after a written batch
    before = count_contacts()
    response = post_import(api(make_user("national")), data)
    assert response.status_code == 422
    assert "rien n'a été importé" in response.json["error"]["message"]
    assert count_contacts() == before
    assert contact("jean.1@example.org") is None
    assert contact("deja.la@example.org").last_name == "Là"


def test_erased_and_unsubscribed_addresses_stay_suppressed_when_imported_again(app, api, make_user, make_contact):
    client = api(make_user("national"))
    erased = make_contact("amelie.heuze@example.org", first_name="Amélie", last_name="Heuzé")
    unsubscribed = make_contact("gael.loeuvre@example.org", opted_out=True)
    assert client.post(f"/api/v1/contacts/{erased.id}/erase").status_code == 200

    suppress(unsubscribed.email, "unsubscribed")
    db.session.commit()
    response = post_import(client, FRENCH_EXCEL.encode("cp1252"))
    messages = {e["row"]: e["message"] for e in response.json["errors"]}
    assert "exclue" in messages[2] and "exclue" in messages[3]
    assert response.json["created"] == 0
    assert contact("amelie.heuze@example.org") is None
    assert contact("gael.loeuvre@example.org").opted_out is True
    rows = db.session.execute(select(Suppression)).scalars().all()
    assert {r.reason for r in rows} == {"erased", "unsubscribed"}


def test_regional_coordinator_imports_into_its_own_region_only(app, api, make_user):
    paca = make_user("regional", region="93")
    text = (
        "Prénom;Nom;Courriel;Région\n"
        "Sandrine;Ferracci;sandrine.ferracci@example.org;\n"
        "Yann;Le Bihan;yann.lebihan@example.org;53\n"
        "Marc;Santoni;marc.santoni@example.org;93\n"
    )
    response = post_import(api(paca), text.encode())
    assert response.json["created"] == 2
    assert [e["row"] for e in response.json["errors"]] == [3]
    assert contact("sandrine.ferracci@example.org").region.code == "93"
    assert contact("yann.lebihan@example.org") is None
    viewer = make_user("viewer")
    assert post_import(api(viewer), text.encode()).status_code == 403


def test_cli_import_dry_run_then_import_then_export(app, runner, regions, tmp_path):
    path = tmp_path / "presse.csv"
    path.write_bytes(FRENCH_EXCEL.encode("cp1252"))
    dry = runner.invoke(args=["contacts", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "simulation" in dry.output and "2 créés" in dry.output and "ligne 5" in dry.output
    assert count_contacts() == 0
    done = runner.invoke(args=["contacts", "import", str(path), "--source", "Fichier 2008"])
    assert done.exit_code == 0 and "2 créés" in done.output
    assert contact("amelie.heuze@example.org").source == "Fichier 2008"
    exported = runner.invoke(args=["contacts", "export", "--region", "53"])
    assert exported.exit_code == 0 and "amelie.heuze@example.org" in exported.output
    vcard = runner.invoke(args=["contacts", "export", "--format", "vcard"])
    assert vcard.output.count("BEGIN:VCARD") == 2
    broken = tmp_path / "vide.csv"
    broken.write_bytes(b"")
    failed = runner.invoke(args=["contacts", "import", str(broken)])
    assert failed.exit_code != 0 and "illisible" in failed.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--mapping", "{Courriel"], "pas du JSON"),
        (["--mapping", '["email"]'], "doit être un objet"),
        (["--mapping", '{"Courriel": ["email"]}'], "Courriel"),
        (["--mapping", '{"Absente": "email"}'], "Absente"),
        (["--rejected", "/dossier/absent/a-corriger.csv"], "--rejected"),
    ],
)
def test_cli_import_with_a_wrong_option_says_which_and_imports_nothing(app, runner, regions, tmp_path, args, said):
    path = tmp_path / "presse.csv"
    path.write_bytes(b"Nom;Courriel\r\nDurand;durand@example.org\r\n")
    failed = runner.invoke(args=["contacts", "import", str(path), *args])
    assert failed.exit_code != 0 and "Error:" in failed.output and said in failed.output, failed.output
    assert isinstance(failed.exception, SystemExit), failed.exception  # no traceback
    assert count_contacts() == 0


def test_cli_import_of_a_missing_or_unreadable_file_says_so(app, runner, regions, tmp_path):
    for path, said in ((tmp_path / "absent.csv", "No such file"), (tmp_path, "Is a directory")):
        failed = runner.invoke(args=["contacts", "import", str(path)])
        assert failed.exit_code == 2 and said in failed.output, failed.output
    broken = tmp_path / "classeur.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    failed = runner.invoke(args=["contacts", "import", str(broken)])
    assert failed.exit_code == 1 and "illisible" in failed.output, failed.output


def test_import_pages_preview_simulate_then_import_with_streamed_progress(
    client, login, make_user, app, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    login(make_user("national"))
    form = client.get("/contacts/import").get_data(as_text=True)
    token = csrf_from(form)
    fields = {"csrf_token": token, "source": "Salon 2008", "legal_basis": "consent", "on_duplicate": "update"}
    fields |= {"kind": "media", "region": ""}
    empty = client.post("/contacts/import", data={**fields, "file": (io.BytesIO(b""), "vide.csv")})
    assert "pas un CSV lisible" in empty.get_data(as_text=True)
    uploaded = client.post(
        "/contacts/import", data={**fields, "file": (io.BytesIO(FRENCH_EXCEL.encode("cp1252")), "presse.csv")}
    )
    mapping_url = uploaded.headers["Location"]
    mapping = client.get(mapping_url).get_data(as_text=True)
    assert "cp1252" in mapping and "Amélie" in mapping and 'value="email" selected' in mapping
    simulated = client.post(f"{mapping_url}/run", data={"csrf_token": token, "step": "dry_run"})
    report = client.get(simulated.headers["Location"]).get_data(as_text=True)
    assert 'data-count="created">2<' in report and "Importer pour de bon" in report
    assert count_contacts() == 0
    streamed = client.post(
        f"{mapping_url}/run", data={"csrf_token": token, "step": "import"}, headers={"Accept": "application/x-ndjson"}
    )
    lines = [json.loads(line) for line in streamed.get_data(as_text=True).splitlines()]
    assert lines[0]["rows"] == 0 and lines[-1]["done"] is True and lines[-1]["created"] == 2
    assert count_contacts() == 2
    assert contact("amelie.heuze@example.org").legal_basis == "consent"
    final = client.get(lines[-1]["report_url"]).get_data(as_text=True)
    assert "Importer pour de bon" not in final and "ligne" in final and "Atlantide" in final
    assert not list(tmp_path.glob("*.csv"))  # the upload is gone once imported
    other = make_user("national")
    sign_out(client)
    login(other)
    assert client.get(mapping_url).status_code == 404  # an upload belongs to whoever sent it


def test_nul_characters_in_a_file_s_cells_are_dropped_and_every_row_imported(app, api, make_user):
    client = api(make_user("national"))
    data = (
        "Nom;Prénom;Courriel;Ville\r\n"
        "Durand;Ali\x00ce;durand@example.org;Brest\r\n"
        "Martin;Paul;paul@exa\x00mple.org;Rennes\r\n"
        "Morvan;Jean;jean@example.org;Lor\x00ient\x00\r\n"
    ).encode()
    answer = post_import(client, data)
    assert answer.status_code == 200 and answer.json["created"] == 3 and answer.json["errors"] == [], answer.json
    assert contact("durand@example.org").first_name == "Alice"
    assert contact("paul@example.org").last_name == "Martin"
    assert contact("jean@example.org").city == "Lorient"
    workbook = xlsx([["Nom", "Courriel"], ["Le_x0000_ Goff", "legoff@example.org"]])  # Excel's escaped NUL
    answer = post_import(client, workbook, filename="presse.xlsx")
    assert answer.status_code == 200 and answer.json["created"] == 1, answer.json
    assert contact("legoff@example.org").last_name == "Le Goff"
    named = post_import(client, b"Courriel\r\nautre@example.org\r\n", filename="pres\x00se.csv")
    assert named.status_code == 422 and "file" in named.json["error"]["fields"], named.json
    assert count_contacts() == 4


def test_the_rows_to_fix_run_no_formula_from_the_file_header_included(app, api, make_user, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    client = api(make_user("national"))
    data = b'Courriel;Nom;=HYPERLINK("http://exemple.invalid","Voir");@SUM(A1)\r\npas-une-adresse;=1+1;-2+3;+33\r\n'
    report = post_import(client, data).json
    assert report["rejected"] == 1, report
    downloaded = client.get(report["rejected_url"])
    assert downloaded.status_code == 200
    header, row = list(csv.reader(io.StringIO(downloaded.data.decode("utf-8-sig")), delimiter=";"))
    assert header[2:] == ["Courriel", "Nom", '\'=HYPERLINK("http://exemple.invalid","Voir")', "'@SUM(A1)"]
    assert row[2:] == ["pas-une-adresse", "'=1+1", "'-2+3", "'+33"]
    # as a spreadsheet opens it: every cell text, none a formula run or a number computed
    header, row = read_spreadsheet(downloaded.data)
    assert header[2:] == ["Courriel", "Nom", '\'=HYPERLINK("http://exemple.invalid","Voir")', "'@SUM(A1)"]
    assert row[2:] == ["pas-une-adresse", "'=1+1", "'-2+3", "'+33"]
