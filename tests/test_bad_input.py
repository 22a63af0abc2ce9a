"""Bad input at the doors of mailings: ids no id column holds, in the API and the mailing pages, are
refused naming the field (SQLite overflowed on them, PostgreSQL refused them nameless)."""

import re

import pytest
from sqlalchemy import select

from extensions import db
from mailings.models import Mailing
from tests.conftest import csrf_from
from tests.test_audiences import new_mailing, template_id

HUGE_IDS = [2**31, 99999999999999999999, 1e30]


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize("field", ["contact_ids", "list_ids", "segment_ids", "exclude_contact_ids"])
def test_an_audience_id_beyond_any_row_is_refused_by_name(app, api, make_user, demo_campaign, field, huge):
    lead = api(make_user("national"))
    made = new_mailing(lead, {field: [huge]})
    assert made.status_code == 422 and f"audience.{field}" in str(made.json["error"]["fields"]), made.json
    assert db.session.scalar(select(Mailing.id)) is None
    draft = new_mailing(lead, {}).json
    edited = lead.patch(f"/api/v1/mailings/{draft['id']}", json={"audience": {field: huge}})
    assert edited.status_code == 422 and f"audience.{field}" in str(edited.json["error"]["fields"]), edited.json


@pytest.mark.parametrize("field", ["contact_ids", "list_ids", "segment_ids"])
def test_the_mailing_form_refuses_an_audience_id_beyond_any_row(client, login, make_user, demo_campaign, field):
    template = template_id()
    login(make_user("national"))
    page = client.get("/mailings").text
    sent = client.post(
        "/mailings",
        data={
            "csrf_token": csrf_from(page),
            "name": "Lancement",
            "template_id": str(template),
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "milestone_id": "0",
            field: "99999999999999999999",
        },
    )
    shown = re.findall(r'class="field-error">([^<]*)<', sent.text)
    assert sent.status_code == 200 and shown, sent.status_code
    named = {
        "contact_ids": "Contacts choisis : ",
        "list_ids": "99999999999999999999",
        "segment_ids": "99999999999999999999",
    }
    assert named[field] in shown[0]
    assert db.session.scalar(select(Mailing.id)) is None


@pytest.mark.parametrize("field", ["template_id", "milestone_id", "campaign_id"])
def test_a_mailing_s_other_ids_beyond_any_row_are_refused_by_name(app, api, make_user, demo_campaign, field):
    lead = api(make_user("national"))
    made = new_mailing(lead, {}, **{field: 2**70})
    assert made.status_code == 422 and field in made.json["error"]["fields"], made.json
    draft = new_mailing(lead, {}).json
    preview = lead.get(f"/api/v1/mailings/{draft['id']}/preview?contact_id={2**70}")
    assert preview.status_code == 422 and "contact_id" in preview.json["error"]["fields"], preview.json
    test = lead.post(f"/api/v1/mailings/{draft['id']}/test", json={"email": "a@example.org", "contact_id": 2**70})
    assert test.status_code == 422 and "contact_id" in test.json["error"]["fields"], test.json


def test_a_test_send_as_a_contact_id_beyond_any_row_says_it_does_not_exist(
    client, login, api, make_user, demo_campaign
):
    lead = make_user("national")
    draft = new_mailing(api(lead), {}).json
    login(lead)
    token = csrf_from(client.get(f"/mailings/{draft['id']}").text)
    sent = client.post(
        f"/mailings/{draft['id']}/test",
        data={"csrf_token": token, "email": "essai@example.org", "contact_id": str(2**70)},
        follow_redirects=True,
    )
    assert sent.status_code == 200 and "Ce contact n&#39;existe pas." in sent.text


def test_list_members_given_beyond_any_id_are_refused_naming_the_field(api, make_user):
    lead = api(make_user("national"))
    made = lead.post("/api/v1/lists", json={"name": "Presse régionale"})
    assert made.status_code == 201, made.get_json()
    answer = lead.post(f"/api/v1/lists/{made.get_json()['id']}/members", json={"contact_ids": [2**70]})
    assert answer.status_code == 422
    assert "contact_ids" in str(answer.get_json()["error"]["fields"])


def test_a_preview_or_test_naming_a_contact_beyond_any_id_falls_back_to_the_audience(
    client, login, make_user, make_contact, make_mailing
):
    lead = make_user("national")
    mailing = make_mailing([make_contact(region="93", first_name="Aïcha")], user=lead)
    login(lead)
    page = client.get(f"/mailings/{mailing.id}?preview={2**70}")
    assert page.status_code == 200 and "Bonjour Aïcha" in page.get_data(as_text=True)  # the first recipient


def test_a_refusal_naming_no_field_of_the_schedule_form_is_said_whole_above_it(
    client, login, make_user, api, demo_campaign
):
    """An empty audience refused at "Programmer": not the bare word "vide" but the sentence, above
    the form, the typed time kept."""
    lead = make_user("national")
    draft = new_mailing(api(lead), {}).json
    login(lead)
    token = csrf_from(client.get(f"/mailings/{draft['id']}").text)
    answer = client.post(
        f"/mailings/{draft['id']}/schedule",
        data={"csrf_token": token, "send_at": "2030-01-08T10:00", "allow_weekend": "y"},
    )
    assert answer.status_code == 422
    shown = re.search(r'<form[^>]*class="schedule-form".*?</form>', answer.text, re.S).group(0)
    assert 'role="alert">Aucun destinataire : l&#39;audience est vide.</p>' in shown
    assert 'value="2030-01-08T10:00"' in shown
