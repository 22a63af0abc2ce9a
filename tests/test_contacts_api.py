"""The contacts, lists and segments API, as the contract says."""

from contacts.models import Suppression
from contacts.suppression import email_hash
from extensions import db


def test_contact_crud_with_contract_fields_and_errors(app, api, make_user, regions):
    client = api(make_user("national"))
    body = {
        "email": "Juliette.Noel@Example.org",
        "first_name": "Juliette",
        "last_name": "Noël",
        "organisation": "Alternatives Économiques",
        "kind": "media",
        "region": None,
        "tags": ["Presse", "ESS"],
        "media_type": "specialised",
        "beats": ["économie sociale"],
        "legal_basis": "legitimate_interest",
        "source": "Annuaire presse",
        "phone": "01 44 00 00 00",
    }
    created = client.post("/api/v1/contacts", json=body)
    assert created.status_code == 201, created.json
    item = created.json
    for key in ("id", "email", "first_name", "last_name", "organisation", "kind", "region", "tags", "media_type"):
        assert key in item
    assert item["email"] == "juliette.noel@example.org" and item["tags"] == ["ess", "presse"]
    assert item["phone"] == "+33144000000" and item["opted_out"] is False and item["bounced"] is False
    assert (item["legal_basis"], item["source"], item["beats"]) == (
        "legitimate_interest",
        "Annuaire presse",
        ["économie sociale"],
    )
    duplicate = client.post("/api/v1/contacts", json={**body, "email": "JULIETTE.NOEL@example.org"})
    assert duplicate.status_code == 409 and duplicate.json["error"]["code"] == "conflict"
    invalid = client.post("/api/v1/contacts", json={"email": "nope", "kind": "alien"})
    assert invalid.status_code == 422 and "kind" in invalid.json["error"]["fields"]
    bad_email = client.post("/api/v1/contacts", json={"email": "nope"})
    assert bad_email.status_code == 422 and "email" in bad_email.json["error"]["fields"]
    contact_id = item["id"]
    patched = client.patch(f"/api/v1/contacts/{contact_id}", json={"region": "53", "tags": ["presse"]})
    assert patched.status_code == 200 and patched.json["region"] == "53" and patched.json["tags"] == ["presse"]
    assert client.get(f"/api/v1/contacts/{contact_id}").json["last_name"] == "Noël"
    unsubscribed = client.patch(f"/api/v1/contacts/{contact_id}", json={"opted_out": True})
    assert unsubscribed.json["opted_out"] is True
    assert db.session.query(Suppression).filter_by(email_hash=email_hash("juliette.noel@example.org")).count() == 1
    back = client.patch(f"/api/v1/contacts/{contact_id}", json={"opted_out": False})
    assert back.status_code == 422 and "opted_out" in back.json["error"]["fields"]
    assert client.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    assert client.get(f"/api/v1/contacts/{contact_id}").status_code == 404


def test_contact_filters_and_pagination(app, api, make_user, make_contact):
    make_contact("a@example.org", region="53", last_name="Heuzé", tags=["presse"], beats=["emploi"])
    make_contact("b@example.org", region="93", kind="partner", last_name="Bernard")
    make_contact("c@example.org", media_type="tv", last_name="Cazes", tags=["tv", "presse"])
    client = api(make_user("national"))

    def emails(query: str) -> list[str]:
        response = client.get(f"/api/v1/contacts?{query}")
        assert response.status_code == 200, response.json
        return [i["email"] for i in response.json["items"]]

    assert emails("q=HEUZE") == ["a@example.org"]
    assert emails("kind=partner") == ["b@example.org"]
    assert emails("region=53") == ["a@example.org"]
    assert emails("region=national") == ["c@example.org"]
    assert emails("tag=presse") == ["c@example.org", "a@example.org"]
    assert emails("tag=tv&tag=presse&media_type=tv") == ["c@example.org"]
    assert emails("beat=emploi") == ["a@example.org"]
    page = client.get("/api/v1/contacts?per_page=2&page=2").json
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 2, 3, 1)
    assert client.get("/api/v1/contacts?region=99").status_code == 422
    assert client.get("/api/v1/contacts?kind=alien").status_code == 422


def test_contacts_are_filtered_by_city_case_and_accents_aside(app, api, make_user, make_contact):
    make_contact("fabre@example.org", last_name="Fabre", city="Montpellier", region="91")
    make_contact("vidal@example.org", last_name="Vidal", city="MONTPELLIER")
    make_contact("roux@example.org", last_name="Roux", city="Sète", region="91")
    make_contact("morvan@example.org", last_name="Morvan", city="Brest", region="53")
    make_contact("olive@example.org", last_name="Olive", city="Rennes", region="93")
    client = api(make_user("national"))

    def emails(query: str) -> list[str]:
        response = client.get(f"/api/v1/contacts?{query}")
        assert response.status_code == 200, response.json
        return [i["email"] for i in response.json["items"]]

    for typed in ("montpellier", "MONTPELLIER", "Montp%C3%A9llier"):
        assert emails(f"city={typed}") == ["fabre@example.org", "vidal@example.org"], typed
    assert emails("city=sete") == ["roux@example.org"]
    assert emails("city=rennes&city=BREST") == ["morvan@example.org", "olive@example.org"]
    assert emails("city=Rennes,%20Brest") == ["morvan@example.org", "olive@example.org"]
    assert emails("city=rennes&region=53") == []
    assert emails("city=Lorient") == []
    regional = api(make_user("regional", region="93"))
    assert [i["email"] for i in regional.get("/api/v1/contacts?city=rennes,brest").json["items"]] == [
        "olive@example.org"
    ]
    exported = client.get("/api/v1/contacts/export?format=csv&city=montp%C3%A9llier").get_data(as_text=True)
    assert "fabre@example.org" in exported and "vidal@example.org" in exported and "roux@" not in exported
    spec = client.get("/api/v1/openapi.json").json
    listed = {p["name"]: p for p in spec["paths"]["/api/v1/contacts"]["get"]["parameters"]}
    assert "accents and case ignored" in listed["city"]["description"]
    assert "city" in {p["name"] for p in spec["paths"]["/api/v1/contacts/export"]["get"]["parameters"]}


def test_erase_and_personal_export_through_the_api(app, api, make_user, make_contact):
    contact = make_contact("marc.santoni@example.org", region="93", first_name="Marc", last_name="Santoni")
    client = api(make_user("national"))
    exported = client.get(f"/api/v1/contacts/{contact.id}/export")
    assert exported.status_code == 200 and exported.json["contact"]["last_name"] == "Santoni"
    erased = client.post(f"/api/v1/contacts/{contact.id}/erase")
    assert erased.status_code == 200 and erased.json == {"id": contact.id, "erased": True}
    assert client.get(f"/api/v1/contacts/{contact.id}").status_code == 404
    recreated = client.post("/api/v1/contacts", json={"email": "Marc.Santoni@example.org"})
    assert recreated.status_code == 201 and recreated.json["opted_out"] is True


def test_lists_and_segments_with_their_size(app, api, make_user, make_contact):
    paca = make_user("regional", region="93")
    national = api(make_user("national"))
    mine = make_contact("m@example.org", region="93", media_type="regional_daily")
    theirs = make_contact("t@example.org", region="53", media_type="regional_daily")
    created = national.post("/api/v1/lists", json={"name": "Invités", "region": None})
    assert created.status_code == 201 and created.json["size"] == 0
    list_id = created.json["id"]
    added = national.post(f"/api/v1/lists/{list_id}/members", json={"contact_ids": [mine.id, theirs.id, mine.id]})
    assert added.status_code == 200 and added.json["size"] == 2
    unknown = national.post(f"/api/v1/lists/{list_id}/members", json={"contact_ids": [999999]})
    assert unknown.status_code == 422 and "contact_ids" in unknown.json["error"]["fields"]
    listing = national.get("/api/v1/lists").json
    assert listing["total"] == 1 and listing["items"][0]["size"] == 2
    segment = national.post("/api/v1/segments", json={"name": "PQR", "filter": {"media_type": "regional_daily"}})
    assert (
        segment.status_code == 201
        and segment.json["size"] == 2
        and segment.json["filter"] == {"media_type": "regional_daily"}
    )
    bad = national.post("/api/v1/segments", json={"name": "X", "filter": {"region": "99"}})
    assert bad.status_code == 422
    regional = api(paca)
    own = regional.post("/api/v1/segments", json={"name": "PQR PACA", "filter": {"media_type": "regional_daily"}})
    assert own.json["size"] == 1 and own.json["region"] == "93"
    assert regional.post(f"/api/v1/lists/{list_id}/members", json={"contact_ids": [mine.id]}).status_code == 403
    regional_list = regional.post("/api/v1/lists", json={"name": "Presse PACA"}).json
    assert regional_list["region"] == "93"
    refused = regional.post(f"/api/v1/lists/{regional_list['id']}/members", json={"contact_ids": [theirs.id]})
    assert refused.status_code == 422
    assert {s["name"] for s in regional.get("/api/v1/segments").json["items"]} == {"PQR", "PQR PACA"}
    assert {s["name"] for s in national.get("/api/v1/segments").json["items"]} == {"PQR", "PQR PACA"}


def test_openapi_document_describes_the_contacts_api(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/{contact_id}/erase",
        "/api/v1/contacts/{contact_id}/export",
        "/api/v1/contacts/import",
        "/api/v1/lists",
        "/api/v1/lists/{list_id}/members",
        "/api/v1/segments",
    ):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/contacts/import"]["post"]["requestBody"]["content"]
    parameters = {p["name"] for p in paths["/api/v1/contacts"]["get"]["parameters"]}
    assert {"q", "kind", "region", "tag", "media_type", "beat", "city", "page", "per_page"} <= parameters


def test_a_deleted_contact_leaves_no_tags_behind(app, api, make_user, make_contact):
    from sqlalchemy import func, select

    from contacts.models import ContactBeat, ContactTag

    contact = make_contact("parti@example.org", tags=["presse"], beats=["emploi"])
    assert api(make_user("national")).delete(f"/api/v1/contacts/{contact.id}").status_code == 204
    assert db.session.scalar(select(func.count()).select_from(ContactTag)) == 0
    assert db.session.scalar(select(func.count()).select_from(ContactBeat)) == 0


def test_openapi_document_is_valid_and_the_import_is_a_multipart_body(client):
    """The whole document passes openapi-spec-validator; the import's file and options are one
    multipart/form-data request body that a generated client can send."""
    from tests.readers import validate_openapi

    document = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(document)
    operation = document["paths"]["/api/v1/contacts/import"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {"dry_run"}
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"file", "mapping", "source", "legal_basis", "on_duplicate", "kind", "region"}
    assert (schema["properties"]["file"]["type"], schema["properties"]["file"]["format"]) == ("string", "binary")
    assert schema["required"] == ["file"]
