"""Contacts: pages, search, exports, GDPR, lists, segments and audiences, region scoping."""

import csv
import io
import re

import pytest
import vobject
from sqlalchemy import select

from accounts.models import AuditEntry
from contacts import audiences, services, suppression
from contacts.models import Contact, Suppression
from errors import Conflict, ValidationFailed
from extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def press(make_contact):
    """A few contacts in Bretagne (53), PACA (93) and national."""
    return {
        "heuze": make_contact(
            "amelie.heuze@example.org",
            region="53",
            first_name="Amélie",
            last_name="Heuzé",
            outlet="Ouest-France",
            media_type="regional_daily",
            tags=["presse", "pqr"],
            beats=["économie"],
        ),
        "ferracci": make_contact(
            "sandrine.ferracci@example.org",
            region="93",
            first_name="Sandrine",
            last_name="Ferracci",
            outlet="La Provence",
            media_type="regional_daily",
            tags=["presse"],
        ),
        "afp": make_contact(
            "francois.guerin@example.org", first_name="François", last_name="Guérin", media_type="agency"
        ),
        "maif": make_contact(
            "bertrand.lemoine@example.org", kind="partner", first_name="Bertrand", last_name="Lemoine"
        ),
    }


def names(html: str) -> set[str]:
    return set(re.findall(r'href="/contacts/\d+">([^<]+)</a>', html))


def test_search_ignores_accents_and_case(client, login, make_user, press):
    login(make_user("national"))
    page = client.get("/contacts?q=heuze").get_data(as_text=True)
    assert names(page) == {"Amélie Heuzé"}
    assert names(client.get("/contacts?q=GUERIN").get_data(as_text=True)) == {"François Guérin"}
    assert names(client.get("/contacts?q=ouest france").get_data(as_text=True)) == {"Amélie Heuzé"}
    assert names(client.get("/contacts?q=%25").get_data(as_text=True)) == set()  # % is not a wildcard


def test_filters_combine_and_pages_follow(client, login, make_user, press, make_contact):
    login(make_user("national"))
    assert names(client.get("/contacts?kind=partner").get_data(as_text=True)) == {"Bertrand Lemoine"}
    assert names(client.get("/contacts?region=national&kind=media").get_data(as_text=True)) == {"François Guérin"}
    assert names(client.get("/contacts?tag=pqr").get_data(as_text=True)) == {"Amélie Heuzé"}
    assert names(client.get("/contacts?beat=économie").get_data(as_text=True)) == {"Amélie Heuzé"}
    shown = names(client.get("/contacts?media_type=regional_daily&region=93").get_data(as_text=True))
    assert shown == {"Sandrine Ferracci"}
    for i in range(52):
        make_contact(f"lecteur{i:02d}@example.org", first_name="Lecteur", last_name=f"Z{i:02d}")
    first = client.get("/contacts?q=lecteur").get_data(as_text=True)
    assert "56 contacts" not in first and "52 contacts" in first and len(names(first)) == 50
    second = client.get("/contacts?q=lecteur&page=2").get_data(as_text=True)
    assert names(second) == {"Lecteur Z50", "Lecteur Z51"}


def city_press(make_contact):
    """Journalists of Montpellier (written two ways), Sète, Rennes and Brest, and one without a city."""
    return {
        "midi_libre": make_contact(first_name="Lucie", last_name="Fabre", city="Montpellier", region="91"),
        "afp_montpellier": make_contact(first_name="Hugo", last_name="Vidal", city="MONTPELLIER"),
        "sete": make_contact(first_name="Inès", last_name="Roux", city="Sète", region="91"),
        "rennes": make_contact(first_name="Yann", last_name="Le Bihan", city="Rennes", region="53"),
        "brest": make_contact(first_name="Gwen", last_name="Morvan", city="Brest", region="53"),
        "nowhere": make_contact(first_name="Paul", last_name="Sansville", region="53"),
    }


def test_the_city_filter_finds_a_city_however_it_is_typed(client, login, make_user, make_contact):
    city_press(make_contact)
    login(make_user("national"))
    montpellier = {"Lucie Fabre", "Hugo Vidal"}
    for typed in ("montpellier", "MONTPELLIER", "Montpéllier", " montpellier  "):
        page = client.get("/contacts", query_string={"city": typed}).text
        assert names(page) == montpellier, typed
        assert "2 contacts" in page
    assert names(client.get("/contacts?city=sete").text) == {"Inès Roux"}
    both = client.get("/contacts", query_string={"city": "rennes, BREST"}).text
    assert names(both) == {"Yann Le Bihan", "Gwen Morvan"}
    assert "à rennes, BREST" in both  # the summary says what was asked
    assert 'name="city" id="city" value="rennes, BREST"' in both  # the field keeps what was typed
    assert names(client.get("/contacts?city=rennes&city=brest").text) == {"Yann Le Bihan", "Gwen Morvan"}
    assert names(client.get("/contacts?city=Brest&region=91").text) == set()  # and other filters still apply
    assert names(client.get("/contacts?city=Lorient").text) == set()
    assert "Aucun contact ne correspond." in client.get("/contacts?city=Lorient").text
    everyone = client.get("/contacts").text
    assert 'name="city"' in everyone and "6 contacts" in everyone

    exported = client.get("/contacts/export", query_string={"format": "csv", "city": "Montpéllier"}).text
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert sorted(row["Ville"] for row in rows) == ["MONTPELLIER", "Montpellier"]
    cards = client.get("/contacts/export", query_string={"format": "vcard", "city": "rennes,brest"}).text
    assert {card.fn.value for card in vobject.readComponents(cards)} == {"Yann Le Bihan", "Gwen Morvan"}


def test_a_region_filtering_by_city_sees_only_its_own_people(client, login, make_user, make_contact):
    people = city_press(make_contact)
    people["rennes_paca"] = make_contact(first_name="Marius", last_name="Olive", city="Rennes", region="93")
    login(make_user("regional", region="93"))
    assert names(client.get("/contacts?city=rennes").text) == {"Marius Olive"}


def test_a_segment_keeps_the_cities_typed_in_the_spelling_in_use(client, login, make_user, make_contact):
    city_press(make_contact)
    login(make_user("national"))
    listing = client.get("/contacts", query_string={"city": "montpéllier, SÈTE, Lunel"}).text
    saved = client.post(
        "/contacts/segments",
        query_string={"city": "montpéllier, SÈTE, Lunel"},
        data={"csrf_token": csrf_from(listing), "name": "Hérault"},
    )
    assert saved.status_code == 302
    segment = db.session.scalars(select(audiences.Segment)).one()
    assert segment.filter == {"city": ["Montpellier", "Sète", "Lunel"]}  # Lunel: nobody there yet, kept
    assert audiences.segment_size(segment) == 3
    assert "à Montpellier, Sète, Lunel" in client.get("/contacts/lists").text


def test_contact_list_page_runs_a_fixed_number_of_queries(client, login, make_user, make_contact, app):
    from sqlalchemy import event

    login(make_user("national"))
    for i in range(5):
        make_contact(f"a{i}@example.org", region="53", tags=["presse"], organisation=None)
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/contacts")
        few = len(statements)
        for i in range(20):
            make_contact(f"b{i}@example.org", region="93", tags=["presse", "pqr"])
        statements.clear()
        client.get("/contacts")
        assert len(statements) == few  # no query per row
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_create_edit_and_duplicate_through_the_form(client, login, make_user, regions):
    login(make_user("national"))
    form = client.get("/contacts/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(form),
        "email": "Yann.LeBihan@Example.org",
        "first_name": "Yann",
        "last_name": "Le Bihan",
        "organisation": "Le Télégramme",
        "kind": "media",
        "region": "53",
        "phone": "02 98 00 00 00",
        "tags": "presse, PQR",
        "media_type": "regional_daily",
        "media_scope": "regional",
        "partnership_status": "",
        "beats": "économie",
        "legal_basis": "legitimate_interest",
        "source": "Carte de visite",
    }
    response = client.post("/contacts/new", data=data)
    assert response.status_code == 302
    yann = db.session.scalar(select(Contact).where(Contact.email == "yann.lebihan@example.org"))
    assert yann.phone == "+33298000000" and sorted(yann.tags) == ["pqr", "presse"]
    assert yann.organisation.name == "Le Télégramme"
    again = client.post("/contacts/new", data=data).get_data(as_text=True)
    assert "déjà" in again
    bad = client.post("/contacts/new", data={**data, "email": "x@y@z", "phone": "12"}).get_data(as_text=True)
    assert 'id="email-error"' in bad and 'id="phone-error"' in bad
    edit = client.get(f"/contacts/{yann.id}/edit").get_data(as_text=True)
    client.post(
        f"/contacts/{yann.id}/edit", data={**data, "csrf_token": csrf_from(edit), "last_name": "Le Bihan-Morvan"}
    )
    db.session.expire_all()
    assert yann.last_name == "Le Bihan-Morvan"


def test_services_validate_emails_phones_and_uniqueness(app, regions, make_contact):
    make_contact("deja@example.org")
    with pytest.raises(Conflict):
        services.save_contact(None, None, {"email": "DEJA@example.org"})
    with pytest.raises(ValidationFailed) as error:
        services.save_contact(None, None, {"email": "pas une adresse", "phone": "abc", "kind": "alien"})
    assert set(error.value.fields) == {"email", "phone", "kind"}
    saved = services.save_contact(None, None, {"email": "un@example.org", "phone": "+44 20 7946 0958"})
    assert saved.phone == "+442079460958"


def test_csv_export_neutralises_formulas_and_keeps_accents(client, login, make_user, make_contact):
    make_contact("formule@example.org", first_name='=HYPERLINK("http://evil")', last_name="@SUM(A1)", outlet="-2+3")
    make_contact("chloe@example.org", first_name="Chloé", last_name="Noël", notes="\tcaché")
    login(make_user("national"))
    response = client.get("/contacts/export?format=csv")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    by_email = {row["E-mail"]: row for row in rows}
    evil = by_email["formule@example.org"]
    assert evil["Prénom"] == '\'=HYPERLINK("http://evil")'
    assert evil["Nom"] == "'@SUM(A1)" and evil["Média"] == "'-2+3"
    assert by_email["chloe@example.org"]["Prénom"] == "Chloé"
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())


def test_vcard_export_parses_with_an_independent_library(client, login, make_user, press):
    login(make_user("national"))
    response = client.get("/contacts/export?format=vcard&tag=presse")
    assert response.mimetype == "text/vcard"
    cards = list(vobject.readComponents(response.get_data(as_text=True)))
    assert len(cards) == 2
    heuze = next(card for card in cards if card.email.value == "amelie.heuze@example.org")
    assert heuze.fn.value == "Amélie Heuzé"
    assert heuze.n.value.family == "Heuzé" and heuze.n.value.given == "Amélie"
    assert "pqr" in heuze.categories.value
    assert heuze.version.value == "3.0"


def test_erasure_keeps_only_a_hash_and_the_address_stays_suppressed(client, login, make_user, press, api):
    national = make_user("national")
    login(national)
    heuze = press["heuze"]
    contact_id, email = heuze.id, heuze.email
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Effacer" in page
    client.post(f"/contacts/{contact_id}/erase", data={"csrf_token": csrf_from(page)})
    db.session.expire_all()
    assert db.session.get(Contact, contact_id) is None
    row = db.session.scalar(select(Suppression))
    assert row.email_hash == suppression.email_hash(email) and row.reason == "erased"
    for entry in db.session.scalars(select(AuditEntry)):
        assert "heuze" not in str(entry.changes).lower() and "amélie" not in str(entry.changes).lower()
    assert suppression.is_suppressed("Amelie.Heuze@example.org")
    created = api(national).post("/api/v1/contacts", json={"email": email, "first_name": "Amélie"})
    assert created.status_code == 201 and created.json["opted_out"] is True
    assert created.json["id"] not in db.session.scalars(audiences.audience_contacts(contact_ids=[created.json["id"]]))


def test_personal_data_export_holds_everything_on_the_person(client, login, make_user, press):
    login(make_user("national"))
    heuze = press["heuze"]
    founded = audiences.create_list(None, "Conférence de Rennes")
    audiences.add_members(None, founded, [heuze.id])
    db.session.commit()
    response = client.get(f"/contacts/{heuze.id}/export.json")
    data = response.json
    assert data["contact"]["email"] == "amelie.heuze@example.org"
    assert data["contact"]["tags"] == ["pqr", "presse"] and data["lists"] == ["Conférence de Rennes"]
    assert data["contact"]["legal_basis"] == "legitimate_interest" and "collected_at" in data["contact"]
    assert data["history"][0]["action"] == "create"


def test_lists_segments_and_audiences(app, press, make_contact, make_user):
    national = make_user("national")
    unsubscribed = make_contact("parti@example.org", region="53", tags=["presse"], opted_out=True)
    bounced = make_contact("rebond@example.org", region="53", tags=["presse"], bounced=True)
    invited = audiences.create_list(national, "Invités")
    assert audiences.add_members(national, invited, [press["afp"].id, unsubscribed.id]) == 2
    assert audiences.add_members(national, invited, [press["afp"].id]) == 0
    pqr = audiences.create_segment(national, "PQR", {"media_type": "regional_daily"})
    presse_53 = audiences.create_segment(national, "Presse Bretagne", {"tags": ["presse"], "region": "53"})
    db.session.commit()
    assert audiences.segment_size(pqr) == 2
    assert audiences.segment_size(presse_53) == 3
    ids = set(db.session.scalars(audiences.audience_contacts([invited.id], [pqr.id, presse_53.id], [press["maif"].id])))
    assert ids == {press["afp"].id, press["heuze"].id, press["ferracci"].id, press["maif"].id}
    assert unsubscribed.id not in ids and bounced.id not in ids
    assert audiences.audience_size([invited.id], [pqr.id]) == 3
    assert list(db.session.scalars(audiences.audience_contacts())) == []
    with pytest.raises(ValidationFailed):
        audiences.create_segment(national, "Mauvais", {"couleur": "bleu"})


def test_regional_segment_stays_within_what_the_region_reads(app, press, make_user):
    paca = make_user("regional", region="93")
    segment = audiences.create_segment(paca, "Toute la presse", {"kind": "media"})
    db.session.commit()
    found = set(db.session.scalars(audiences.segment_contact_ids(segment)))
    assert found == {press["ferracci"].id, press["afp"].id}


def test_lists_page_shows_sizes_and_saves_segments_from_filters(client, login, make_user, press):
    login(make_user("national"))
    page = client.get("/contacts?media_type=regional_daily").get_data(as_text=True)
    client.post(
        "/contacts/segments?media_type=regional_daily",
        data={"csrf_token": csrf_from(page), "name": "PQR"},
    )
    lists_page = client.get("/contacts/lists").get_data(as_text=True)
    client.post("/contacts/lists", data={"csrf_token": csrf_from(lists_page), "name": "Presse écrite", "region": ""})
    listed = audiences.list_query(None)
    created = db.session.scalars(listed).one()
    client.post("/contacts/lists/add?tag=presse", data={"csrf_token": csrf_from(page), "list_id": str(created.id)})
    lists_page = client.get("/contacts/lists").get_data(as_text=True)
    assert re.search(r"<td>PQR</td>.*?<td>2</td>", lists_page, re.S)
    assert re.search(r"<td>Presse écrite</td><td>Nationale</td><td>2</td>", lists_page)


def test_regional_coordinator_sees_and_changes_only_national_and_its_region(client, login, make_user, press, api):
    paca = make_user("regional", region="93")
    login(paca)
    listing = client.get("/contacts").get_data(as_text=True)
    assert names(listing) == {"Sandrine Ferracci", "François Guérin", "Bertrand Lemoine"}
    assert client.get(f"/contacts/{press['heuze'].id}").status_code == 403
    assert client.get(f"/contacts/{press['heuze'].id}/export.json").status_code == 403
    assert client.get(f"/contacts/{press['heuze'].id}/edit").status_code == 403
    assert client.get(f"/contacts/{press['afp'].id}/edit").status_code == 403  # national: read only
    assert client.get(f"/contacts/{press['ferracci'].id}/edit").status_code == 200
    token = csrf_from(listing)
    assert client.post(f"/contacts/{press['heuze'].id}/erase", data={"csrf_token": token}).status_code == 403
    exported = client.get("/contacts/export?format=csv").get_data(as_text=True)
    assert "sandrine.ferracci@example.org" in exported and "amelie.heuze" not in exported
    assert "amelie.heuze" not in client.get("/contacts/export?format=vcard&region=53").get_data(as_text=True)
    client_api = api(paca)
    items = client_api.get("/api/v1/contacts?per_page=100").json["items"]
    assert {i["email"] for i in items} == {
        "sandrine.ferracci@example.org",
        "francois.guerin@example.org",
        "bertrand.lemoine@example.org",
    }
    assert client_api.get(f"/api/v1/contacts/{press['heuze'].id}").status_code == 403
    assert client_api.get(f"/api/v1/contacts/{press['heuze'].id}/export").status_code == 403
    assert client_api.patch(f"/api/v1/contacts/{press['heuze'].id}", json={"first_name": "X"}).status_code == 403
    assert client_api.delete(f"/api/v1/contacts/{press['heuze'].id}").status_code == 403
    assert client_api.post(f"/api/v1/contacts/{press['heuze'].id}/erase").status_code == 403
    assert client_api.patch(f"/api/v1/contacts/{press['afp'].id}", json={"first_name": "X"}).status_code == 403
    moved = client_api.patch(f"/api/v1/contacts/{press['ferracci'].id}", json={"region": "53"})
    assert moved.status_code == 403
    created = client_api.post("/api/v1/contacts", json={"email": "nouveau@example.org"})
    assert created.status_code == 201 and created.json["region"] == "93"
    other = client_api.post("/api/v1/contacts", json={"email": "autre@example.org", "region": "53"})
    assert other.status_code == 403
    exported = client_api.get("/api/v1/contacts/export?format=csv").get_data(as_text=True)
    assert "amelie.heuze" not in exported and "sandrine.ferracci" in exported
    db.session.expire_all()
    assert press["heuze"].first_name == "Amélie" and press["ferracci"].region.code == "93"


def test_viewer_reads_but_changes_nothing(client, login, make_user, press):
    login(make_user("viewer"))
    assert client.get("/contacts").status_code == 200
    assert client.get(f"/contacts/{press['heuze'].id}").status_code == 200
    assert client.get("/contacts/import").status_code == 403
    assert client.get(f"/contacts/{press['heuze'].id}/edit").status_code == 403


def test_services_the_delivery_engine_relies_on(app, make_contact):
    """is_suppressed, suppress and audience_contacts, as mailings/ calls them; the erasure signal."""
    journalist = make_contact("Rebond@Example.org")
    other = make_contact("reste@example.org")
    assert not suppression.is_suppressed("rebond@example.org")
    suppression.suppress("REBOND@example.org", "bounced")
    db.session.commit()
    assert suppression.is_suppressed("rebond@example.org") and journalist.bounced and journalist.bounced_at
    ids = list(db.session.scalars(audiences.audience_contacts(contact_ids=[journalist.id, other.id])))
    assert ids == [other.id]
    seen = []
    handler = lambda sender, **data: seen.append(data)  # noqa: E731
    services.contact_erased.connect(handler)
    try:
        services.erase_contact(None, other)
        db.session.commit()
    finally:
        services.contact_erased.disconnect(handler)
    assert seen == [
        {
            "contact_id": other.id,
            "email_hash": suppression.email_hash("reste@example.org"),
            "email": "reste@example.org",
        }
    ]
    assert suppression.is_suppressed("reste@example.org")


SPREADSHEET_PEOPLE = [
    {
        "email": "lea@example.org",
        "first_name": "Léa",
        "kind": "partner",
        "region": "93",
        "phone": "+33612345678",
        "legal_basis": "legitimate_interest",
        "partnership_status": "confirmed",
        "tags": ["presse", "ess"],
    },
    {
        "email": "tom@example.org",
        "first_name": "Tom",
        "kind": "media",
        "region": "91",
        "phone": "+442079460958",
        "legal_basis": "consent",
        "media_type": "regional_daily",
        "media_scope": "regional",
        "outlet": "Midi Libre",
    },
    {
        "email": "formule@example.org",
        "first_name": '=HYPERLINK("http://evil")',
        "last_name": "@SUM(A1)",
        "kind": "other",
    },
]


def snapshot() -> dict:
    fields = ("first_name", "last_name", "kind", "region_id", "phone", "legal_basis", "media_type", "media_scope")
    fields += ("outlet", "partnership_status", "source")
    return {
        c.email: ({f: getattr(c, f) for f in fields}, sorted(c.tags), sorted(c.beats))
        for c in db.session.scalars(select(Contact))
    }


def test_csv_export_reads_in_a_spreadsheet_as_people_write_and_imports_back_unchanged(
    client, api, login, make_user, make_contact, regions
):
    """Opened in LibreOffice Calc: phone numbers as written ('06 12 34 56 78', no apostrophe),
    labels rather than codes, the region's name, a date and time the spreadsheet recognises, and
    no formula anywhere; imported back, the file changes nothing."""
    from datetime import UTC, datetime

    from tests.readers import read_spreadsheet

    for person in SPREADSHEET_PEOPLE:
        tags = person.pop("tags", [])
        contact = make_contact(collected_at=datetime(2008, 10, 23, 8, 5, tzinfo=UTC), **dict(person))
        contact.tags = tags
        person["tags"] = tags
    db.session.commit()
    before = snapshot()
    login(make_user("national"))
    exported = client.get("/contacts/export?format=csv").data

    header, *rows = read_spreadsheet(exported)
    cells = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    lea, tom = cells["lea@example.org"], cells["tom@example.org"]
    assert lea["Téléphone"] == "06 12 34 56 78" and tom["Téléphone"] == "00 44 20 7946 0958"
    assert (lea["Type"], lea["Base légale"], lea["Statut du partenariat"]) == (
        "Partenaire",
        "Intérêt légitime",
        "Confirmé",
    )
    assert (tom["Type"], tom["Type de média"], tom["Portée"]) == ("Média", "Quotidien régional (PQR)", "Régionale")
    assert (lea["Région"], tom["Région"]) == (regions["93"].name, regions["91"].name)
    assert lea["Collecté le"] == datetime(2008, 10, 23, 10, 5)  # a date in the spreadsheet, French time
    assert all(not str(value).startswith("=") for row in rows for value in row if value is not None)

    response = api(make_user("national")).post(
        "/api/v1/contacts/import",
        data={"file": (io.BytesIO(exported), "contacts.csv"), "on_duplicate": "update"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["errors"] == []
    db.session.expire_all()
    assert snapshot() == before


def test_a_list_id_beyond_any_list_is_said_not_to_exist(client, login, make_user, press):
    login(make_user("national"))
    page = client.get("/contacts").get_data(as_text=True)
    added = client.post(
        "/contacts/lists/add", data={"csrf_token": csrf_from(page), "list_id": str(2**70)}, follow_redirects=True
    )
    assert added.status_code == 200 and "Cette liste n&#39;existe pas." in added.get_data(as_text=True)
