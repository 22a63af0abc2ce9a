"""Partner relay kits: sent as a mailing with a signed link per partner; partners report where,
when and at which address they relayed; the campaign shows who relayed what."""

from urllib.parse import urlsplit

from sqlalchemy import func, select

from extensions import db
from press import relay
from press.models import RelayReport
from tests.conftest import csrf_from
from tests.test_press_helpers import deliver, links


def test_partners_report_their_relays(mail_app, smtp_server, client, login, make_user, make_contact, demo_campaign):
    user = make_user("national")
    federation = make_contact(email="federation@example.org", first_name="Inès", last_name="Roux", kind="network")
    union = make_contact(email="union@example.org", kind="partner", region="93")
    make_contact(email="journaliste@example.org", kind="media", region="93")
    kit = relay.save_kit(
        user,
        None,
        {
            "title": "Relayez le Mois de l'ESS {{ & }}",
            "texts": "Texte court {{ pas du jinja }}.\n\nTexte long.",
            "links": "https://example.org/mois-ess",
        },
        demo_campaign,
    )
    mailing = relay.send_kit(user, kit, {"from_email": "partenariats@example.org"})
    db.session.commit()
    assert deliver(mail_app, mailing.id).status == "sent"
    received = smtp_server.by_recipient()
    assert set(received) == {"federation@example.org", "union@example.org"}  # partners and networks only
    text = received["federation@example.org"][0].parsed().get_body(preferencelist=("plain",)).get_content()
    assert "{{ pas du jinja }}" in text and "https://example.org/mois-ess" in text
    assert (
        received["federation@example.org"][0].parsed()["Subject"] == "Kit de relais : Relayez le Mois de l'ESS {{ & }}"
    )
    html = received["federation@example.org"][0].parsed().get_body(preferencelist=("html",)).get_content()
    assert "{{ pas du jinja }}" in html and "&amp;" in html
    (mine,) = links(received["federation@example.org"][0], "relay")
    (theirs,) = links(received["union@example.org"][0], "relay")
    assert mine != theirs

    path = urlsplit(mine).path
    form = client.get(path)
    assert form.status_code == 200 and "Relayez le Mois de l&#39;ESS" in form.get_data(as_text=True)
    token = csrf_from(form.get_data(as_text=True))
    bad = client.post(
        path, data={"csrf_token": token, "channel": "Lettre", "relayed_on": "2008-11-02", "url": "javascript:alert(1)"}
    )
    assert bad.status_code == 422 and 'id="url-error"' in bad.get_data(as_text=True)
    assert client.post(path, data={"csrf_token": token, "channel": "", "relayed_on": "demain"}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(RelayReport)) == 0
    done = client.post(
        path,
        data={
            "csrf_token": token,
            "channel": "Lettre d'information de novembre",
            "relayed_on": "2008-11-02",
            "url": "https://federation.example.org/lettre",
        },
    )
    assert done.status_code == 200 and "Merci" in done.get_data(as_text=True)
    assert client.get(urlsplit(mine).path[:-2] + "xx").status_code == 404  # tampered

    login(user)
    page = client.get("/press/relay/").get_data(as_text=True)
    assert "Inès Roux" in page and "Lettre d&#39;information de novembre" in page
    assert "https://federation.example.org/lettre" in page
    reports = relay.reports(kit)
    assert [(r.contact_id, r.relayed_on.date().isoformat()) for r in reports] == [(federation.id, "2008-11-02")]
    assert union.id not in {r.contact_id for r in reports}
