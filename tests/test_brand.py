"""The campaign's charter: colours checked for WCAG AA contrast, one logo uploaded once and served
by the app, applied to mailings, the newsroom and the public programme; regions keep the common
logo and add their name."""

import io

import pytest
from PIL import Image

from campaign.brand import color_problem, contrast
from extensions import db
from tests.conftest import csrf_from
from tests.test_mailings import create


def png(color=(11, 110, 79), size=(120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_contrast_follows_wcag():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the palest grey that passes AA on white
    assert color_problem("#767676") is None
    assert "4,5:1" in color_problem("#777777")
    assert "#rrggbb" in color_problem("green")


def test_brand_in_the_api_with_contrast_checked(api, make_user, demo_campaign):
    lead = api(make_user("national"))
    url = f"/api/v1/campaigns/{demo_campaign.id}"
    body = lead.get(url).get_json()
    assert body["brand"] == {"primary_color": "#0b6e4f", "accent_color": "#8a4b08", "logo_url": None, "footer": ""}

    changed = lead.patch(url, json={"brand": {"primary_color": "#1F3A93", "footer": "CNCRES · Paris"}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["brand"]["primary_color"] == "#1f3a93"
    assert changed.get_json()["brand"]["footer"] == "CNCRES · Paris"

    pale = lead.patch(url, json={"brand": {"accent_color": "#ffcc00", "footer": "not saved"}})
    assert pale.status_code == 422
    assert "brand.accent_color" in pale.get_json()["error"]["fields"]
    malformed = lead.patch(url, json={"brand": {"primary_color": "green"}})
    assert malformed.status_code == 422 and "brand.primary_color" in malformed.get_json()["error"]["fields"]
    top = lead.patch(url, json={"primary_color": "#eeeeee"})
    assert top.status_code == 422 and "primary_color" in top.get_json()["error"]["fields"]
    assert lead.get(url).get_json()["brand"]["footer"] == "CNCRES · Paris"  # nothing half-written

    viewer = api(make_user("viewer"))
    assert viewer.patch(url, json={"brand": {"footer": "x"}}).status_code == 403


def test_logo_uploaded_once_and_served_from_the_app(api, client, make_user, demo_campaign):
    lead = api(make_user("national"))
    url = f"/api/v1/campaigns/{demo_campaign.id}/logo"
    not_image = lead.put(url, data={"file": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")})
    assert not_image.status_code == 422 and "logo" in not_image.get_json()["error"]["fields"]
    fake_png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature alone is not an image
    assert lead.put(url, data={"file": (io.BytesIO(fake_png), "logo.png")}).status_code == 422
    answer = lead.put(url, data={"file": (io.BytesIO(png()), "logo.png")})
    assert answer.status_code == 200, answer.get_json()
    logo_url = answer.get_json()["brand"]["logo_url"]
    assert logo_url.startswith("http://relais.test/brand/")
    served = client.get(logo_url.removeprefix("http://relais.test"))
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png()
    again = client.get(logo_url.removeprefix("http://relais.test"), headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    assert lead.delete(url).get_json()["brand"]["logo_url"] is None


@pytest.fixture
def branded(app, demo_campaign):
    from campaign.brand import save_brand

    class Lead:
        role = "national"

    save_brand(
        Lead(), demo_campaign, {"primary_color": "#1f3a93", "accent_color": "#9b2226", "footer": "CNCRES"}, png()
    )
    db.session.commit()
    return demo_campaign


def test_settings_page_names_the_refused_field(app, client, login, make_user, branded):
    login(make_user("national"))
    page = client.get(f"/campaigns/{branded.id}/brand")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "primary_color": "#1f3a93",
        "accent_color": "#ffdd00",
        "footer": "CNCRES",
    }
    refused = client.post(f"/campaigns/{branded.id}/brand", data=form)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="accent_color-error"' in html and "Contraste insuffisant" in html
    form["accent_color"] = "#222222"
    form["logo"] = (io.BytesIO(b"GIF89a not a logo"), "logo.gif")
    refused = client.post(f"/campaigns/{branded.id}/brand", data=form, content_type="multipart/form-data")
    assert refused.status_code == 422 and 'id="logo-error"' in refused.get_data(as_text=True)
    form.pop("logo")
    saved = client.post(f"/campaigns/{branded.id}/brand", data=form, follow_redirects=True)
    assert "Charte enregistrée" in saved.get_data(as_text=True)
    db.session.refresh(branded)
    assert branded.accent_color == "#222222"


def test_regional_coordinator_cannot_change_the_charter(app, client, login, make_user, branded):
    login(make_user("regional", region="93"))
    assert client.get(f"/campaigns/{branded.id}/brand").status_code == 403


def test_mailing_carries_colours_logo_and_footer(api, make_user, make_contact, branded):
    lead = api(make_user("national"))
    person = make_contact(region="93")
    mailing = create(lead, [person])
    preview = lead.get(f"/api/v1/mailings/{mailing['id']}/preview?contact_id={person.id}").get_json()
    html = preview["html"]
    assert "background:#1f3a93" in html  # header and buttons
    assert "color:#9b2226" in html  # links
    assert f"/brand/{branded.id}/logo?v=" in html
    assert "CNCRES" in html and "CNCRES" in preview["text"]


def test_newsroom_and_programme_carry_the_charter_and_the_region_name(client, branded, regions):
    for url in ("/newsroom", "/programme"):
        html = client.get(url).get_data(as_text=True)
        assert "--relais-brand-primary: #1f3a93" in html and f"/brand/{branded.id}/logo?v=" in html, url
        assert "CNCRES" in html
    regional = client.get("/programme?region=93").get_data(as_text=True)
    assert f"/brand/{branded.id}/logo?v=" in regional  # the common logo...
    assert '<span class="brand-region">Provence-Alpes-Côte d’Azur</span>' in regional  # ...with the region's name
