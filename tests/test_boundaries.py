"""Region, approval and link boundaries attacked as a regional coordinator of another region, a viewer
and an anonymous visitor would: side doors that take an id from a body or a query string."""

from contacts.audiences import add_members, create_list, create_segment
from extensions import db
from tests.fixtures_mail import DEMO_HTML, DEMO_SUBJECT

PACA, BRETAGNE = "93", "53"


def regional_mailing(client, audience: dict, **extra):
    template = client.post("/api/v1/templates", json={"name": "Invitation", "subject": DEMO_SUBJECT, "html": DEMO_HTML})
    assert template.status_code == 201, template.get_json()
    return client.post(
        "/api/v1/mailings",
        json={
            "template_id": template.get_json()["id"],
            "name": "Invitation presse",
            "from_name": "CRESS PACA",
            "from_email": "presse@example.org",
            "audience": audience,
            **extra,
        },
    )


def test_a_regional_mailing_cannot_name_another_regions_lists_or_segments(api, make_user, make_contact, demo_campaign):
    paca = api(make_user("regional", region=PACA))
    lead = make_user("national")
    journalist = make_contact(region=BRETAGNE)
    their_list = create_list(lead, "Presse bretonne", region=BRETAGNE)
    add_members(lead, their_list, [journalist.id])
    their_segment = create_segment(make_user("regional", region=BRETAGNE), "Médias bretons", {"kind": "media"})
    db.session.commit()
    for field, ids in (("list_ids", [their_list.id]), ("segment_ids", [their_segment.id])):
        answer = regional_mailing(paca, {field: ids})
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["error"]["fields"] == {f"audience.{field}": "belongs to another region"}
    own = regional_mailing(paca, {"contact_ids": [make_contact(region=PACA).id]}).get_json()
    edit = paca.patch(f"/api/v1/mailings/{own['id']}", json={"audience": {"list_ids": [their_list.id]}})
    assert edit.status_code == 422 and "audience.list_ids" in edit.get_json()["error"]["fields"]


def test_a_national_list_reaches_only_national_and_own_contacts_in_a_regional_mailing(
    api, make_user, make_contact, demo_campaign, mail_app
):
    """A national list (readable by every region) holding Bretagne's journalists: a PACA mailing that
    uses it, approved and sent, never writes to them and its log never shows them."""
    paca_user = make_user("regional", region=PACA)
    paca, lead = api(paca_user), api(make_user("national"))
    breton, ours, national = make_contact(region=BRETAGNE), make_contact(region=PACA), make_contact()
    everyone = create_list(make_user("national"), "Tous les médias")
    add_members(None, everyone, [breton.id, ours.id, national.id])
    db.session.commit()
    segment = lead.post("/api/v1/segments", json={"name": "Bretagne", "filter": {"region": BRETAGNE}}).get_json()
    mailing = regional_mailing(paca, {"list_ids": [everyone.id], "segment_ids": [segment["id"]]}).get_json()
    assert mailing["audience_size"] == 2
    mid = mailing["id"]
    assert paca.post(f"/api/v1/mailings/{mid}/submit").status_code == 200
    assert lead.post(f"/api/v1/mailings/{mid}/approve").status_code == 200
    assert paca.post(f"/api/v1/mailings/{mid}/send-now").status_code == 200
    log = paca.get(f"/api/v1/mailings/{mid}/deliveries").get_json()
    assert {d["email"] for d in log["items"]} == {ours.email, national.email}
    assert paca.get(f"/api/v1/contacts/{breton.id}").status_code == 403
