"""The public newsroom: releases per campaign and region, press kit files (type- and size-checked),
Atom and RSS feeds, and share metadata."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import func, select

from dbtypes import utcnow
from extensions import db
from press import newsroom
from press.models import PressKitFile
from tests.conftest import csrf_from, sign_out

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def upload(client, name: str, data: bytes, kind: str, **owner):
    page = client.get("/press/releases")
    form = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "kind": kind,
        "title": name,
        "file": (io.BytesIO(data), name),
        **owner,
    }
    return client.post("/press/files", data=form, content_type="multipart/form-data", follow_redirects=True)


def test_press_kit_uploads_are_checked_and_downloadable(app, client, login, make_user, demo_campaign):
    login(make_user("national"))
    assert "Fichier ajouté" in upload(client, "logo-charte.png", PNG, "logo").get_data(as_text=True)
    assert "Fichier ajouté" in upload(client, "photo.jpg", JPEG, "photo").get_data(as_text=True)
    assert "Fichier ajouté" in upload(client, "dossier.pdf", PDF, "pdf").get_data(as_text=True)
    refused = upload(client, "dossier.pdf", b"<html><script>alert(1)</script></html>", "pdf").get_data(as_text=True)
    assert "Fichier refusé" in refused
    assert "Fichier refusé" in upload(client, "photo.png", PDF, "photo").get_data(as_text=True)  # not its kind
    app.config["PRESS_KIT_MAX_BYTES"] = 1024
    try:
        assert "Fichier refusé" in upload(client, "big.png", PNG + b"\x00" * 2000, "photo").get_data(as_text=True)
    finally:
        app.config.pop("PRESS_KIT_MAX_BYTES")
    assert db.session.scalar(select(func.count()).select_from(PressKitFile)) == 3

    sign_out(client)
    page = client.get("/newsroom").get_data(as_text=True)
    files = db.session.scalars(select(PressKitFile).order_by(PressKitFile.id)).all()
    for record, data in zip(files, (PNG, JPEG, PDF), strict=True):
        url = f"/newsroom/files/{record.id}/{record.filename}"
        assert url in page
        answer = client.get(url)
        assert answer.status_code == 200 and answer.data == data
        assert answer.mimetype == record.content_type
    assert client.get(f"/newsroom/files/{files[0].id}/other-name.png").status_code == 404
    assert 'property="og:image"' in page


def test_release_files_follow_the_embargo(app, client, make_user, demo_campaign):
    from werkzeug.datastructures import FileStorage

    user = make_user("national")
    item, _ = newsroom.save_release(
        user, None, {"title": "Embargo", "ready": True, "embargo_until": utcnow() + timedelta(hours=1)}, demo_campaign
    )
    record = newsroom.add_file(user, demo_campaign, FileStorage(io.BytesIO(JPEG), "p.jpg"), "photo", release_id=item.id)
    db.session.commit()
    url = f"/newsroom/files/{record.id}/{record.filename}"
    assert client.get(url).status_code == 404
    item.embargo_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(url).status_code == 200
    page = client.get(f"/newsroom/{item.id}").get_data(as_text=True)
    assert f'<meta property="og:image" content="http://relais.test{url}">' in page
    assert 'name="twitter:card" content="summary_large_image"' in page


def test_feeds_and_share_metadata_per_region(app, client, make_user, demo_campaign, regions):
    national, paca = make_user("national"), make_user("regional", region="93")
    for user, title in ((national, "Lancement national"), (paca, "Programme en PACA")):
        newsroom.save_release(user, None, {"title": title, "lead": f"Chapeau : {title}", "ready": True}, demo_campaign)
    other = make_user("regional", region="91")
    newsroom.save_release(other, None, {"title": "Programme en Languedoc", "ready": True}, demo_campaign)
    db.session.commit()

    atom = ET.fromstring(client.get("/newsroom/feed.atom?region=93").data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = {e.findtext("a:title", namespaces=ns) for e in atom.findall("a:entry", ns)}
    assert titles == {"Lancement national", "Programme en PACA"}
    rss = ET.fromstring(client.get(f"/newsroom/feed.rss?campaign={demo_campaign.id}").data)
    assert {i.findtext("title") for i in rss.iter("item")} == titles | {"Programme en Languedoc"}
    assert client.get("/newsroom/feed.rss").mimetype == "application/rss+xml"

    page = client.get("/newsroom?region=93").get_data(as_text=True)
    assert "Programme en PACA" in page and "Programme en Languedoc" not in page
    assert 'type="application/atom+xml"' in page
    assert client.get("/newsroom?region=ZZ").status_code == 404
    item = db.session.scalar(select(newsroom.PressRelease).where(newsroom.PressRelease.title == "Programme en PACA"))
    show = client.get(f"/newsroom/{item.id}").get_data(as_text=True)
    assert '<meta property="og:title" content="Programme en PACA">' in show
    assert '<meta name="twitter:description" content="Chapeau : Programme en PACA">' in show
    assert re.findall(r"<script[^>]*>", show) == ['<script src="/static/js/relais.js" defer>']  # Relais's own only


def test_feeds_name_their_author_and_themselves_as_readers_expect(app, client, make_user, demo_campaign, regions):
    """Atom: an author on the feed and on each entry (RFC 4287, 4.1.1), the chamber for a region's
    release, the campaign for a national one; RSS: its own address in atom:link rel="self"."""
    from tests.readers import read_atom, read_rss

    national, paca = make_user("national"), make_user("regional", region="93")
    for user, title in ((national, "Lancement national"), (paca, "Programme en PACA")):
        newsroom.save_release(user, None, {"title": title, "lead": f"Chapeau : {title}", "ready": True}, demo_campaign)
    db.session.commit()
    chamber = regions["93"].chamber or regions["93"].name

    feed = read_atom(client.get("/newsroom/feed.atom?region=93").data)
    assert feed.feed.author == chamber
    authors = {e.title: e.author for e in feed.entries}
    assert authors == {"Lancement national": demo_campaign.name, "Programme en PACA": chamber}
    national_feed = read_atom(client.get(f"/newsroom/feed.atom?campaign={demo_campaign.id}").data)
    assert national_feed.feed.author == demo_campaign.name

    url = f"/newsroom/feed.rss?campaign={demo_campaign.id}"
    rss = read_rss(client.get(url).data, "http://relais.test" + url)
    assert {e.title for e in rss.entries} == {"Lancement national", "Programme en PACA"}
    region_url = f"/newsroom/feed.rss?campaign={demo_campaign.id}&region=93"
    assert read_rss(client.get(region_url).data, "http://relais.test" + region_url).feed.title.endswith(
        regions["93"].name
    )
