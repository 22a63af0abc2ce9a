"""Names people type match the names held case and accents aside, the same on SQLite and PostgreSQL."""

import io

from sqlalchemy import func, select

from contacts.models import Contact, Organisation
from extensions import db
from matching import fold, pick, spellings, unique


def test_fold_is_case_accent_ligature_and_space_free():
    assert fold("  Écho   SOLIDAIRE ") == "echo solidaire"
    assert fold("Cœur de Lœuvre") == "coeur de loeuvre"
    assert fold("Provence-Alpes-Côte d’Azur") == fold("provence-alpes-cote d'azur")
    assert pick("recyclage", ["Insertion", "Recyclage"]) == "Recyclage"
    assert pick("Recyclage durable", ["Recyclage"]) is None
    assert spellings(["ECONOMIE"], ["économie", "emploi", "economie"]) == ["économie", "economie"]
    assert unique(["Recyclage", "recyclage ", "RÉCYCLAGE", "Insertion"]) == ["Recyclage", "Insertion"]


def organisations() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Organisation.name).order_by(Organisation.id)))


def test_a_second_contact_of_an_accented_organisation_joins_it(app, api, make_user):
    client = api(make_user("national"))
    first = client.post("/api/v1/contacts", json={"email": "a@example.org", "organisation": "Écho Solidaire"})
    assert first.status_code == 201, first.get_json()
    for email, spelling in (("b@example.org", "Écho Solidaire"), ("c@example.org", "ÉCHO  solidaire")):
        answer = client.post("/api/v1/contacts", json={"email": email, "organisation": spelling})
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["organisation"] == "Écho Solidaire"
    assert organisations() == ["Écho Solidaire"]
    found = client.get("/api/v1/contacts?q=echo solidaire").get_json()
    assert found["total"] == 3


GOOGLE = (
    "Name,Given Name,Family Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value,"
    "Organization 1 - Type,Organization 1 - Name,Organization 1 - Title\n"
    "Chloé Martin,Chloé,Martin,* myContacts ::: Économie,* Work,chloe@example.org,,ALTERNATIVES ÉCONOMIQUES,\n"
    "Paul Roy,Paul,Roy,* myContacts ::: ECONOMIE,* Work,paul@example.org,,Alternatives economiques,\n"
    "Lise Neuve,Lise,Neuve,* myContacts,* Work,lise@example.org,,Écho Solidaire,\n"
    "Léo Neuf,Léo,Neuf,* myContacts,* Work,leo@example.org,,écho solidaire,\n"
)


def test_an_import_finds_the_organisations_and_tags_already_held(app, api, make_user):
    client = api(make_user("national"))
    made = client.post(
        "/api/v1/contacts",
        json={"email": "held@example.org", "organisation": "Alternatives Économiques", "tags": ["économie"]},
    )
    assert made.status_code == 201
    answer = client.post(
        "/api/v1/contacts/import",
        data={"file": (io.BytesIO(GOOGLE.encode()), "google.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["created"] == 4 and answer.get_json()["errors"] == []
    assert organisations() == ["Alternatives Économiques", "Écho Solidaire"]
    tagged = client.get("/api/v1/contacts?tag=Economie").get_json()
    assert sorted(c["email"] for c in tagged["items"]) == ["chloe@example.org", "held@example.org", "paul@example.org"]
    assert {tuple(c["tags"]) for c in tagged["items"]} == {("économie",)}


def test_tags_beats_and_regions_match_however_they_are_typed(app, api, make_user, regions):
    client = api(make_user("national"))
    one = client.post(
        "/api/v1/contacts", json={"email": "one@example.org", "tags": ["Presse-Éco"], "beats": ["Économie"]}
    )
    two = client.post(
        "/api/v1/contacts",
        json={"email": "two@example.org", "tags": ["PRESSE-ECO"], "beats": ["economie"], "region": "ÎLE DE FRANCE"},
    )
    assert one.status_code == two.status_code == 201, two.get_json()
    assert two.get_json()["tags"] == ["presse-éco"] and two.get_json()["beats"] == ["économie"]
    assert two.get_json()["region"] == "11"
    for query in ("tag=presse-eco", "beat=ÉCONOMIE", "tags=Presse-Éco"):
        assert client.get(f"/api/v1/contacts?{query}").get_json()["total"] == 2, query
    assert client.get("/api/v1/contacts?region=ile de france").get_json()["total"] == 1
    assert client.get("/api/v1/contacts?region=Atlantide").status_code in (400, 422)
    segment = client.post("/api/v1/segments", json={"name": "Éco", "filter": {"beats": ["Economie"]}})
    assert segment.status_code == 201, segment.get_json()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 2


def test_themes_and_types_take_the_campaigns_spelling(app, api, make_user, demo_campaign, client):
    staff = api(make_user("national"))
    event = {
        "region": "91",
        "title": "Ressourcerie ouverte",
        "type": "journée PORTES ouvertes",
        "themes": ["recyclage", "ÉCONOMIE ET UTILITÉ SOCIALE", "Recyclage"],
        "starts_at": "2008-11-08T10:00",
        "city": "Montpellier",
    }
    created = staff.post(f"/api/v1/campaigns/{demo_campaign.id}/events", json=event)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["themes"] == ["Recyclage", "Économie et utilité sociale"]
    assert created.get_json()["type"] == "Journée portes ouvertes"
    for query in ("theme=recyclage", "theme=RECYCLAGE", "type=journee portes ouvertes"):
        page = client.get(f"/programme?campaign={demo_campaign.id}&{query}")
        assert page.status_code == 200 and "Ressourcerie ouverte" in page.get_data(as_text=True), query
    assert "Ressourcerie ouverte" not in client.get(f"/programme?campaign={demo_campaign.id}&theme=Insertion").get_data(
        as_text=True
    )


def test_the_migration_merges_organisations_that_were_one_name(app):
    """Before 0012, SQLite let "Écho Solidaire" and "ÉCHO SOLIDAIRE" both in: the upgrade keeps the
    oldest, moves the other's contacts to it, and gives every organisation its folded key."""
    import os

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    directory = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
    downgrade(directory=directory, revision="0011_campaign_brand")
    try:
        with db.engine.begin() as conn:
            for name in ("Écho Solidaire", "ÉCHO SOLIDAIRE", "Autre"):
                conn.execute(
                    text("INSERT INTO organisations (name, kind, website, created_at) VALUES (:n, 'other', '', :at)"),
                    {"n": name, "at": "2008-06-19 10:00:00+00:00"},
                )
            ids = dict(conn.execute(text("SELECT name, id FROM organisations")).all())
            for number, name in enumerate(("Écho Solidaire", "ÉCHO SOLIDAIRE")):
                conn.execute(
                    text(
                        "INSERT INTO contacts (email, first_name, last_name, organisation_id, job_title, kind, phone,"
                        " outlet, partnership_level, source, legal_basis, collected_at, opted_out, bounced, notes,"
                        " search_text, created_at, updated_at) VALUES (:e, '', '', :o, '', 'media', '', '', '', '',"
                        " 'consent', :at, false, false, '', '', :at, :at)"
                    ),
                    {"e": f"p{number}@example.org", "o": ids[name], "at": "2008-06-19 10:00:00+00:00"},
                )
    finally:
        upgrade(directory=directory, revision="heads")
    db.session.expire_all()
    held = {o.name: o.name_key for o in db.session.scalars(select(Organisation))}
    assert held == {"Écho Solidaire": "echo solidaire", "Autre": "autre"}
    assert {c.organisation.name for c in db.session.scalars(select(Contact))} == {"Écho Solidaire"}
